"""Writing outputs safely: a file appears whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from audiodrama.errors import InputError


def ensure_writable_dir(folder: Path) -> Path:
    """Create `folder` if needed and check files can be written there, before any work starts."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError("output folder is a file", path=folder, hint="give another folder with -o") from None
    except OSError as error:
        raise InputError(f"cannot create output folder: {error.strerror}", path=folder) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError("output folder is not writable", path=folder, hint="give another folder with -o")
    return folder


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it is renamed onto `target`, else removed."""
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
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
    finally:
        temp_path.unlink(missing_ok=True)


def write_text_atomic(target: Path, text: str) -> None:
    """Write a UTF-8 text file whole or not at all."""
    with atomic_path(target) as temporary:
        temporary.write_text(text, encoding="utf-8")
