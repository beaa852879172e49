"""`harness verify` / `prepare`: every video a task needs exists and decodes, before any model loads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tqdm import tqdm

from . import video
from .config import RunConfig
from .errors import HarnessError
from .runner import load_task
from .types import Sample


def _check(sample: Sample) -> str | None:
    if sample.error:
        return sample.error
    if sample.media is None:
        return None
    try:
        info = video.probe(sample.media)
        if info.n_frames <= 0:
            return f"no frames in {sample.media.path}"
    except HarnessError as e:
        return str(e)
    return None


def verify(names: list[str], cfg: RunConfig, workers: int = 4) -> bool:
    """Print one line per bad sample and a summary per task; True when everything is usable."""
    ok = True
    for name in names:
        run = load_task(name, cfg)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            problems = list(tqdm(pool.map(_check, run.samples), total=len(run.samples), desc=f"verify {name}",
                                 leave=False))
        bad = [(s.id, p) for s, p in zip(run.samples, problems) if p]
        for sid, problem in bad:
            print(f"{name} {sid}: {problem}")
        print(f"{name}: {len(run.samples) - len(bad)}/{len(run.samples)} samples ready (root {run.task.root})")
        ok = ok and not bad
    return ok
