"""Writing outputs safely: a file appears whole or not at all."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from audiodrama.errors import AudiodramaError, InputError

PART = ".part"
"""Suffix of temporary files: `.<name>.<pid of the writer>.<random>.part` beside the file they become."""


def ensure_writable_dir(folder: Path) -> Path:
    """Create `folder` if needed and check files can be written there, before any work starts.

    The check writes and removes a probe file: permission bits say nothing to root, nor about a
    read-only file system.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError("output folder is a file", path=folder, hint="give another folder with -o") from None
    except OSError as error:
        raise InputError(f"cannot create output folder: {error.strerror}", path=folder) from None
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise InputError(f"output folder is not writable: {error.strerror}", path=folder,
                         hint="give another folder with -o") from None
    return folder


def is_special(path: Path) -> bool:
    """True for an existing device, pipe or socket (`/dev/null`, `/dev/stdout`): not a file to replace."""
    try:
        mode = path.stat().st_mode
    except (OSError, ValueError):
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _writer_alive(partial: Path) -> bool:
    """True while the process that is writing the temporary file `partial` runs."""
    pid = partial.name.rsplit(".", 3)[1]
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    try:  # a killed writer may linger as a zombie until it is reaped: it writes no more
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def sweep_partials(folder: Path) -> None:
    """Remove the temporary files killed runs left in `folder` (their writer is gone)."""
    for partial in folder.glob(f".*{PART}"):
        if not _writer_alive(partial):
            partial.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it is renamed onto `target`, else removed.

    Errors name `target`, never the temporary file.
    """
    if is_special(target):
        raise InputError("the output is a device or pipe, not a file", path=target, hint="give a file name")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=PART, dir=target.parent)
    except OSError as error:
        raise OSError(error.errno, error.strerror, str(target)) from None
    os.close(handle)
    temp_path = Path(temporary)
    umask = os.umask(0)
    os.umask(umask)
    temp_path.chmod(0o666 & ~umask)  # as an ordinary new file would be, not mkstemp's 0600
    try:
        yield temp_path
        try:
            os.replace(temp_path, target)
        except IsADirectoryError:
            raise InputError("a folder is in the way of the output file", path=target,
                             hint="move it away or choose another output folder") from None
    except OSError as error:
        if error.errno is None or error.filename not in (None, temporary):
            raise
        raise OSError(error.errno, error.strerror, str(target)) from None
    except AudiodramaError as error:
        if error.path == temporary:
            error.path = str(target)
        raise
    finally:
        temp_path.unlink(missing_ok=True)


def write_text_atomic(target: Path, text: str) -> None:
    """Write a UTF-8 text file whole or not at all (a device or pipe, such as /dev/stdout, is written to)."""
    if is_special(target):
        with open(target, "w", encoding="utf-8") as stream:
            stream.write(text)
        return
    with atomic_path(target) as temporary:
        temporary.write_text(text, encoding="utf-8")
