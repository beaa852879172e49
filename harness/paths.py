"""Resolving annotation paths safely under a data root."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import DataError


def safe_join(root: Path, rel: str, *, file: str | None = None, record: str | None = None) -> Path:
    """`root/rel`, refusing anything that lands outside `root` (`..`, absolute paths, symlinks out).

    Annotation files are input we do not control; a path escaping the data root is an error that
    names the annotation file and record, never a silent read of some other file.
    """
    if not rel or os.path.isabs(rel) or rel.startswith(("~", "\\")):
        raise DataError(f"path {rel!r} is not relative to the data root", file=file, record=record)
    root_real = Path(os.path.realpath(root))
    target = Path(os.path.realpath(root_real / rel))
    if target != root_real and root_real not in target.parents:
        raise DataError(f"path {rel!r} escapes the data root {root}", file=file, record=record,
                        hint="annotation paths must stay inside --data-root")
    return target
