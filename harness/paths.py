"""Resolving annotation paths safely under a data root, and finding the files the package ships."""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path

from .errors import DataError, HarnessError, WriteError


def safe_join(root: Path, rel: str, *, file: str | None = None, record: str | None = None) -> Path:
    """`root/rel`, refusing anything that lands outside `root` (`..`, absolute paths, symlinks out).

    Annotation files are input we do not control; a path escaping the data root is an error that
    names the annotation file and record, never a silent read of some other file.
    """
    if "\x00" in rel:
        raise DataError(f"path {rel!r} holds a NUL byte, which no file name can", file=file, record=record)
    if not rel or os.path.isabs(rel) or rel.startswith(("~", "\\")):
        raise DataError(f"path {rel!r} is not relative to the data root", file=file, record=record)
    root_real = Path(os.path.realpath(root))
    target = Path(os.path.realpath(root_real / rel))
    if target != root_real and root_real not in target.parents:
        raise DataError(f"path {rel!r} escapes the data root {root}", file=file, record=record,
                        hint="annotation paths must stay inside --data-root")
    return target


def ensure_writable_dir(path: Path, what: str, hint: str | None = None) -> Path:
    """Create `path` (and its parents) and check a file can be made in it, else a WriteError that names
    it and says why: a component that is a regular file, a read-only filesystem, no permission."""
    path = Path(path)
    for p in (path, *path.parents):  # the deepest existing component must be a folder
        if p.exists():
            if not p.is_dir():
                raise WriteError(path, f"{p} is a file, not a folder" if p != path else "it is a file, not a folder",
                                 what, hint or "choose a folder path")
            break
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".harness-write-check.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise WriteError(path, e, what, hint) from None
    return path


def package_dir(package: str) -> Path:
    """The folder holding `package`'s files, without running its __init__: harness.tasks is tasks/
    in a checkout (pyproject.toml's package-dir, through the editable install) and harness/tasks/
    in an installed wheel, so protocol text, checkpoints and published numbers are found in both."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise HarnessError(f"package {package} is not installed", hint='pip install -e . (from the repository root)')
    return Path(next(iter(spec.submodule_search_locations))).resolve()
