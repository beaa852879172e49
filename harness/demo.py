"""The embedded demo sets: built once per task into a cache folder, then read like real data."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .errors import WriteError
from .paths import ensure_writable_dir
from .task import Task

CACHE_HINT = "set HARNESS_CACHE to a folder this user can write (demo sets and judge verdicts are cached there)"

DEMO_VERSION = "2"  # 2: clips encoded without x264 mbtree (reproducible bytes)


def cache_dir() -> Path:
    return Path(os.environ.get("HARNESS_CACHE", Path.home() / ".cache" / "harness"))


def demo_root(task_cls: type[Task]) -> Path:
    """The task's demo folder, built on first use. Built in a temp dir and renamed into place, so
    concurrent ranks or a crash mid-build never leave a half-written set that later runs trust."""
    root = cache_dir() / "demo" / f"{task_cls.name}-v{task_cls.version}-d{DEMO_VERSION}"
    if (root / ".complete").exists():
        return root
    ensure_writable_dir(root.parent, "the demo sets' folder", CACHE_HINT)
    tmp = Path(tempfile.mkdtemp(dir=root.parent, prefix=f".{root.name}."))
    try:
        try:
            task_cls.build_demo(tmp)
            (tmp / ".complete").write_text("ok\n")
        except OSError as e:  # e.g. the cache's disk filled up while the clips were written
            raise WriteError(root, e, f"the {task_cls.name} demo set", CACHE_HINT) from None
        try:
            os.replace(tmp, root)
        except OSError:  # another rank won the race; its copy is identical (deterministic build)
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root
