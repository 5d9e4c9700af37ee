"""Writing output files atomically: the whole file appears, or nothing does."""

from __future__ import annotations

import contextlib
import os
import tempfile

from ._errors import IPExpertError, Problem

_UMASK = os.umask(0o022)  # read once, at import, while no other thread can be writing files
os.umask(_UMASK)


def _mode(path: str) -> int:
    """The mode the file gets: the old file's, or what open() would give a new one (mkstemp gives 0600)."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        return 0o666 & ~_UMASK


def write_atomic(path, text: str | bytes) -> None:
    """Write *text* (or bytes) to *path* through a temporary file in the same folder and a rename."""
    with atomic_file(path, binary=isinstance(text, bytes)) as handle:
        handle.write(text)


@contextlib.contextmanager
def atomic_file(path, binary: bool = False):
    """A text (or *binary*) file to write line by line that appears at *path* only when the block succeeds."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".ipexpert-", suffix=".tmp", dir=folder)
        os.chmod(tmp, _mode(path))
    except OSError as exc:
        raise IPExpertError(Problem(path, None, None, "$", f"cannot write: {exc.strerror or exc}")) from None
    try:
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise IPExpertError(Problem(path, None, None, "$", f"cannot write: {exc.strerror or exc}")) from None
        raise
