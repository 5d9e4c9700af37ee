"""Writing output: atomically to a regular file, straight through to anything else.

A regular file (or a symlink to one) is written through a temporary file beside its target and
a rename, so the whole file appears or nothing does; the symlink stays a symlink. A named pipe,
a device or `/dev/stdout` cannot be replaced by a file: those are opened and written as they
are. `-` means standard output. A temporary file left behind by a killed run is removed the
next time output is written into the same folder: every live one is locked by its writer.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import sys
import tempfile
import types

from ipexpert._errors import IPExpertError, Problem

fcntl: types.ModuleType | None
try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no locks, so stale files are left alone
    fcntl = None

TEMP_PREFIX, TEMP_SUFFIX = ".ipexpert-", ".tmp"

_UMASK = os.umask(0o022)  # read once, at import, while no other thread can be writing files
os.umask(_UMASK)


def _mode(path: str) -> int:
    """The mode the file gets: the old file's, or what open() would give a new one (mkstemp gives 0600)."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        return 0o666 & ~_UMASK


def _cannot_write(path, exc) -> IPExpertError:
    return IPExpertError(Problem(os.fspath(path), None, None, "$", f"cannot write: {getattr(exc, 'strerror', None) or exc}"))


def write_atomic(path, text: str | bytes) -> None:
    """Write *text* (or bytes) to *path* (see `atomic_file`)."""
    with atomic_file(path, binary=isinstance(text, bytes)) as handle:
        handle.write(text)


@contextlib.contextmanager
def atomic_file(path, binary: bool = False):
    """A UTF-8 text (or *binary*) file to write that appears at *path* only when the block succeeds.

    `-` is standard output, and a pipe or a device is written through: neither can be atomic.
    """
    path = os.fspath(path)
    if path == "-":
        sys.stdout.flush()
        with _stream(sys.stdout.buffer, path, binary) as handle:
            yield handle
        return
    try:
        regular = stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        regular = True  # a new file, or a dangling symlink to one
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    if not regular:
        try:
            raw = open(path, "wb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise _cannot_write(path, exc) from None
        with raw, _stream(raw, path, binary) as handle:
            yield handle
        return
    with _replace(os.path.realpath(path), path, binary) as handle:
        yield handle


@contextlib.contextmanager
def _stream(raw, path, binary=False):
    if binary:
        try:
            yield raw
            raw.flush()
        except OSError as exc:
            raise _cannot_write(path, exc) from None
        return
    handle = io.TextIOWrapper(raw, encoding="utf-8", newline="", write_through=True)
    try:
        yield handle
        handle.flush()
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    finally:
        handle.detach()


@contextlib.contextmanager
def _replace(target: str, shown: str, binary: bool = False):
    """Write to a locked temporary file beside *target*, then rename it over *target*."""
    folder = os.path.dirname(target)
    remove_stale(folder)
    try:
        fd, tmp = _locked_temp(folder)
        os.chmod(tmp, _mode(target))
    except OSError as exc:
        raise _cannot_write(shown, exc) from None
    try:
        with os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
            os.replace(tmp, target)  # still locked: no other run can take it for stale
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _cannot_write(shown, exc) from None
        raise


def _locked_temp(folder: str) -> tuple[int, str]:
    while True:
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=folder)
        if fcntl is None:
            return fd, tmp
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.stat(tmp).st_ino == os.fstat(fd).st_ino:
                return fd, tmp
        except FileNotFoundError:
            pass
        os.close(fd)  # another run took it for stale in the instant before the lock: make another


def is_held(path: str) -> bool:
    """Whether a live run holds the temporary file *path* (without locks, every file counts as held)."""
    if fcntl is None:
        return True
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


def remove_stale(folder: str) -> list[str]:
    """Remove the temporary files in *folder* that no live writer holds (left by a killed run)."""
    removed: list[str] = []
    if fcntl is None:
        return removed
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(TEMP_PREFIX) and e.name.endswith(TEMP_SUFFIX)]
    except OSError:
        return removed
    for entry in entries:
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.stat(entry.path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino:
                os.unlink(entry.path)
                removed.append(entry.path)
        except OSError:
            pass  # locked: a live run is writing it
        finally:
            os.close(fd)
    return removed
