"""Which espeak-ng library and which ffmpeg the product uses, and how to reach them.

The system's copies are preferred when installed; otherwise (or when the environment variable
`AUDIODRAMA_BUNDLED=1` forces it) the ones shipped in the `espeakng-loader` and `imageio-ffmpeg`
wheels are used, so nothing but Python has to be installed. The bundled ffmpeg can be replaced by
any executable through imageio-ffmpeg's own `IMAGEIO_FFMPEG_EXE` variable (the tests point it at
a missing file, or put a failing `ffmpeg` first on `PATH`, to see ffmpeg missing or failing).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from audiodrama.errors import ToolError

BUNDLED_ENV = "AUDIODRAMA_BUNDLED"
"""Set to 1 to use the wheels' espeak-ng and ffmpeg even when the system has its own."""

SYSTEM_ESPEAK_DATA_DIRS = (
    "/usr/lib/x86_64-linux-gnu/espeak-ng-data",
    "/usr/lib/aarch64-linux-gnu/espeak-ng-data",
    "/usr/lib/espeak-ng-data",
    "/usr/share/espeak-ng-data",
    "/usr/local/share/espeak-ng-data",
    "/opt/homebrew/share/espeak-ng-data",
)


def force_bundled() -> bool:
    """True when the user asked for the bundled tools whatever the system has."""
    return os.environ.get(BUNDLED_ENV, "").strip().lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class EspeakRuntime:
    """The espeak-ng library the engine loads."""

    library: str
    """Path (or soname) of libespeak-ng."""
    data_dir: str
    """The `espeak-ng-data` directory holding voices and dictionaries."""
    source: str
    """`system` or `bundled`."""
    version: str
    """The library's version, e.g. `1.51`."""


@dataclass(frozen=True)
class FfmpegRuntime:
    """The ffmpeg executable used to encode and decode audio."""

    executable: str
    """Path of the ffmpeg binary."""
    source: str
    """`system` or `bundled`."""
    version: str
    """Its version string."""


def _library_version(library: str) -> str:
    match = re.search(r"\.so\.(\d+\.\d+\.(\d+))$", os.path.realpath(library))
    if match:  # libespeak-ng.so.1.1.51 -> 1.51
        return f"1.{match.group(2)}"
    try:
        lib = ctypes.CDLL(library)
        lib.espeak_Info.restype = ctypes.c_char_p
        info = lib.espeak_Info(None)
        return info.decode().split()[0] if info else "unknown"
    except (OSError, AttributeError):
        return "unknown"


def _system_espeak() -> EspeakRuntime | None:
    soname = ctypes.util.find_library("espeak-ng")
    data_dir = next((d for d in SYSTEM_ESPEAK_DATA_DIRS if Path(d, "phontab").exists()), None)
    if not soname or not data_dir:
        return None
    library = soname
    for folder in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib", "/usr/local/lib"):
        candidate = Path(folder, soname)
        if candidate.exists():
            library = str(candidate)
            break
    return EspeakRuntime(library, data_dir, "system", _library_version(library))


def _bundled_espeak() -> EspeakRuntime:
    import espeakng_loader

    library = espeakng_loader.get_library_path()
    return EspeakRuntime(library, espeakng_loader.get_data_path(), "bundled", _library_version(library))


@functools.cache
def espeak() -> EspeakRuntime:
    """The espeak-ng library to use: the system's unless absent or `AUDIODRAMA_BUNDLED=1`."""
    found = None if force_bundled() else _system_espeak()
    return found or _bundled_espeak()


def load_espeak_for_pyttsx3() -> EspeakRuntime:
    """Make the chosen libespeak-ng the one pyttsx3 finds; call before `import pyttsx3`.

    pyttsx3 loads `libespeak-ng.so.1` by soname and the library calls `exit(1)` when it cannot
    find its data, so the data path is exported and the library preloaded globally first.
    """
    runtime = espeak()
    os.environ["ESPEAK_DATA_PATH"] = str(Path(runtime.data_dir).parent)
    # Loaded globally first, the library answers pyttsx3's later dlopen of the same soname.
    ctypes.CDLL(runtime.library, mode=ctypes.RTLD_GLOBAL)
    return runtime


def _ffmpeg_version(executable: str) -> str:
    try:
        out = subprocess.run(
            [executable, "-version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except OSError:
        return "unknown"
    match = re.match(r"ffmpeg version (\S+)", out)
    return match.group(1) if match else "unknown"


FFMPEG_HINT = "install ffmpeg or reinstall audiodrama with imageio-ffmpeg; `audiodrama doctor` says which is used"


@functools.cache
def ffmpeg() -> FfmpegRuntime:
    """The ffmpeg to use: the system's unless absent or `AUDIODRAMA_BUNDLED=1`."""
    system = None if force_bundled() else shutil.which("ffmpeg")
    if system:
        return FfmpegRuntime(system, "system", _ffmpeg_version(system))
    try:
        import imageio_ffmpeg

        bundled = imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as error:
        raise ToolError(f"ffmpeg not found: {error}", hint=FFMPEG_HINT) from error
    if not os.access(bundled, os.X_OK) or Path(bundled).is_dir():
        raise ToolError("ffmpeg not found: no program at this path", path=bundled, hint=FFMPEG_HINT)
    return FfmpegRuntime(bundled, "bundled", _ffmpeg_version(bundled))
