"""Writing the grader's own output (``autograded/``, ``feedback/``) without ever following a symbolic link."""

from __future__ import annotations

import logging
import os
import shutil
import stat
from pathlib import Path

log = logging.getLogger("autograder")


def real_dir(base: Path, *parts: str) -> Path:
    """``base/parts...`` as real folders: a symbolic link (or a file) found at any of ``parts`` is removed and
    replaced by an empty folder, so nothing written below it lands where the link pointed. ``base`` itself (e.g. an
    ``autograded/`` the instructor put on another disk) is taken as it is."""
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    for part in parts:
        if part in ("", ".", "..") or "/" in part:
            raise ValueError(f"not a plain folder name: {part!r}")
        path = path / part
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            path.mkdir()
            continue
        if stat.S_ISDIR(mode):
            continue
        log.warning(
            "%s was a %s, not a folder: replaced by a folder", path, "link" if stat.S_ISLNK(mode) else "file"
        )
        path.unlink()
        path.mkdir()
    return path


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a fresh temporary file and ``os.replace`` (a link at ``path`` is replaced,
    never written through)."""
    tmp = path.with_name(f".{path.name}.tmp")
    if os.path.lexists(tmp):
        if os.path.isdir(tmp) and not os.path.islink(tmp):
            shutil.rmtree(tmp)
        else:
            os.unlink(tmp)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)
