"""The `espeak-ng` command line as an engine: one process per piece of text, nothing kept warm.

Used only when the `espeak-ng` binary is installed; it shows how little an engine needs.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from pathlib import Path
from typing import ClassVar

from audiodrama.errors import ToolError
from audiodrama.synthesis.engine import Engine, VoiceInfo
from audiodrama.synthesis.voices import Voice


@functools.cache
def _executable() -> str:
    found = shutil.which("espeak-ng")
    if not found:
        raise ToolError("the espeak-ng command is not installed", hint="use the pyttsx3 engine")
    return found


def _run(*args: str, text: str = "") -> str:
    done = subprocess.run([_executable(), *args], input=text, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"espeak-ng {' '.join(args)} failed: {done.stderr.strip() or done.returncode}")
    return done.stdout


class EspeakCliEngine(Engine):
    """`espeak-ng -w FILE` with the text on stdin."""

    name: ClassVar[str] = "espeak-ng"

    @classmethod
    def info(cls) -> dict[str, str]:
        version = re.search(r"\d+\.\d+\S*", _run("--version"))
        return {
            "name": cls.name,
            "version": version.group(0) if version else "unknown",
            "executable": _executable(),
            "source": "system",
        }

    def synthesize(self, text: str, voice: Voice, wav_path: Path) -> None:
        amplitude = round(voice.volume * 100)
        options = ["-v", voice.voice, "-s", str(voice.rate), "-p", str(voice.pitch), "-a", str(amplitude)]
        _run(*options, "-w", str(wav_path), "--stdin", text=text)

    def voices(self) -> list[VoiceInfo]:
        """Parse `espeak-ng --voices`: `Pty Language Age/Gender VoiceName File Other Languages`."""
        found = []
        for row in _run("--voices").splitlines()[1:]:
            _, language, age_gender, name, identifier, *_ = row.split()
            gender = {"M": "male", "F": "female"}.get(age_gender.partition("/")[2])
            found.append(VoiceInfo(identifier.lower(), name.replace("_", " "), (language,), gender))
        return found
