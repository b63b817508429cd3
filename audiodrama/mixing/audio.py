"""Small audio helpers over pydub and ffmpeg: reading clips, decoding any file to samples, encoding MP3."""

from __future__ import annotations

import subprocess
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from audiodrama import runtime
from audiodrama.errors import ToolError, exit_reason

with warnings.catch_warnings():  # pydub warns at import when ffmpeg is not on PATH (we give it ours)
    warnings.simplefilter("ignore", RuntimeWarning)
    warnings.simplefilter("ignore", DeprecationWarning)  # audioop, on Python 3.11-3.12
    from pydub import AudioSegment


def load_clip(path: Path, sample_rate: int, volume: float = 1.0) -> np.ndarray:
    """A mono 16-bit WAV clip as int16 samples at `sample_rate`, scaled by `volume` (0-1)."""
    segment = AudioSegment.from_wav(path).set_channels(1).set_sample_width(2)
    if segment.frame_rate != sample_rate:
        segment = segment.set_frame_rate(sample_rate)
    if volume < 1.0:
        segment = segment.apply_gain(20 * np.log10(max(volume, 1e-4)))
    return np.frombuffer(segment.raw_data, dtype=np.int16)


def _decode_command(path: Path, sample_rate: int) -> list[str]:
    return [runtime.ffmpeg().executable, "-nostdin", "-v", "error", "-i", str(path),
            "-f", "f32le", "-ac", "1", "-ar", str(sample_rate), "pipe:1"]


def _decode_error(path: Path, stderr: bytes) -> ToolError:
    message = stderr.decode(errors="replace").strip().splitlines()
    return ToolError(f"ffmpeg cannot decode {path}: {message[-1] if message else 'unknown error'}")


def decode(path: Path, sample_rate: int = 22050) -> np.ndarray:
    """Decode any audio file ffmpeg reads into mono float32 samples in [-1, 1] at `sample_rate`."""
    result = subprocess.run(_decode_command(path, sample_rate), capture_output=True, check=False)
    if result.returncode != 0:
        raise _decode_error(path, result.stderr)
    return np.frombuffer(result.stdout, dtype=np.float32)


def decode_blocks(path: Path, sample_rate: int, block: int = 1 << 16) -> Iterator[np.ndarray]:
    """Decode like `decode`, as a stream of float32 blocks in constant memory."""
    with subprocess.Popen(_decode_command(path, sample_rate), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as decoder:
        assert decoder.stdout is not None and decoder.stderr is not None
        while chunk := decoder.stdout.read(block * 4):
            yield np.frombuffer(chunk[: len(chunk) // 4 * 4], dtype=np.float32)
        stderr = decoder.stderr.read()
    if decoder.returncode != 0:
        raise _decode_error(path, stderr)


def encode_mp3(blocks: Iterable[np.ndarray], sample_rate: int, target: Path, bitrate: str = "96k") -> None:
    """Stream float32 mono blocks into ffmpeg's MP3 encoder, writing `target` (not atomically)."""
    command = [runtime.ffmpeg().executable, "-nostdin", "-v", "error", "-y", "-f", "f32le",
               "-ar", str(sample_rate), "-ac", "1", "-i", "pipe:0", "-codec:a", "libmp3lame",
               "-b:a", bitrate, "-f", "mp3", str(target)]
    with subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE) as encoder:
        assert encoder.stdin is not None and encoder.stderr is not None
        try:
            for block in blocks:
                encoder.stdin.write(block.astype("<f4", copy=False).tobytes())
        except BrokenPipeError:
            pass  # ffmpeg died; its message is read below
        finally:
            encoder.stdin.close()
        errors = encoder.stderr.read().decode(errors="replace").strip()
    if encoder.returncode != 0:
        reason = errors.splitlines()[-1] if errors else exit_reason(encoder.returncode)
        raise ToolError(f"ffmpeg failed to encode the MP3: {reason}", path=target, hint="run `audiodrama doctor`")
