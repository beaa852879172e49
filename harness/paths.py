"""Resolving annotation paths safely under a data root, and finding the files the package ships."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from pathlib import Path

from .errors import DataError, HarnessError, WriteError

# Folders besides a task's own root (its real path) that annotation paths may lead into through symlinks:
# the --allow-root folders (real paths), set around task loading (harness.runner.load_task).
_ALLOWED: ContextVar[tuple[Path, ...]] = ContextVar("harness_allowed_roots", default=())


@contextlib.contextmanager
def allowed_roots(roots: Iterable[Path | str]) -> Iterator[None]:
    """Within the block, safe_join also accepts paths whose real location is inside one of `roots`."""
    token = _ALLOWED.set(tuple(Path(os.path.realpath(r)) for r in roots))
    try:
        yield
    finally:
        _ALLOWED.reset(token)


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def safe_join(root: Path, rel: str, *, file: str | None = None, record: str | None = None) -> Path:
    """`root/rel` as a real path, refusing anything that lands outside `root` (`..`, absolute paths,
    symlinks out) and outside every folder `allowed_roots` names (--allow-root).

    Annotation files are input we do not control; a path escaping the data root is an error that
    names the annotation file and record, never a silent read of some other file. A symlink is
    followed where its target stays inside an allowed root: a dataset in the Hugging Face hub cache
    (snapshots/<rev>/ files link into ../../blobs/) reads with --allow-root naming the repo folder.
    """
    if "\x00" in rel:
        raise DataError(f"path {rel!r} holds a NUL byte, which no file name can", file=file, record=record)
    if not rel or os.path.isabs(rel) or rel.startswith(("~", "\\")):
        raise DataError(f"path {rel!r} is not relative to the data root", file=file, record=record)
    root_real = Path(os.path.realpath(root))
    target = Path(os.path.realpath(root_real / rel))
    allowed = (root_real, *_ALLOWED.get())
    if not any(_inside(target, a) for a in allowed):
        raise _escape_error(root, root_real, rel, target, allowed, file, record)
    return target


def _escape_error(root: Path, root_real: Path, rel: str, target: Path, allowed: tuple[Path, ...],
                  file: str | None, record: str | None) -> DataError:
    """Say what leads out: the first symlink on the way whose target is outside every allowed root
    (where it points, and the --allow-root that would admit it), or a plain `..`."""
    where = root_real
    for part in Path(rel).parts:
        where = where / part
        if where.is_symlink():
            dest = os.readlink(where)
            real = Path(os.path.realpath(where))
            if not any(_inside(real, a) for a in allowed):
                shown = Path(root) / where.relative_to(root_real)
                points = f"{dest} ({real})" if str(real) != dest else dest
                if real.parent.name == "blobs" and real.parent.parent.name.startswith(("datasets--", "models--")):
                    suggest, why = real.parent.parent, "this is a Hugging Face hub cache: "
                else:
                    suggest, why = real.parent, ""
                return DataError(f"path {rel!r} escapes the data root {root}: {shown} is a symlink to {points}",
                                 file=file, record=record,
                                 hint=f"{why}if {suggest} holds data you mean to read, pass --allow-root {suggest} "
                                      "(repeatable; links that leave every allowed folder stay refused)")
    return DataError(f"path {rel!r} escapes the data root {root} (to {target})", file=file, record=record,
                     hint="annotation paths must stay inside --data-root (or a folder named by --allow-root)")


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
