"""The embedded demo sets: built once per task into a cache folder, then read like real data."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .task import Task

DEMO_VERSION = "2"  # 2: clips encoded without x264 mbtree (reproducible bytes)


def cache_dir() -> Path:
    return Path(os.environ.get("HARNESS_CACHE", Path.home() / ".cache" / "harness"))


def demo_root(task_cls: type[Task]) -> Path:
    """The task's demo folder, built on first use. Built in a temp dir and renamed into place, so
    concurrent ranks or a crash mid-build never leave a half-written set that later runs trust."""
    root = cache_dir() / "demo" / f"{task_cls.name}-v{task_cls.version}-d{DEMO_VERSION}"
    if (root / ".complete").exists():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root.parent, prefix=f".{root.name}."))
    try:
        task_cls.build_demo(tmp)
        (tmp / ".complete").write_text("ok\n")
        try:
            os.replace(tmp, root)
        except OSError:  # another rank won the race; its copy is identical (deterministic build)
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root
