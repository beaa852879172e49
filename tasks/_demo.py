"""Synthetic demo sets: harness.synth scenes with questions whose answers are true of the video.

Each `build_<benchmark>` writes that benchmark's own official file layout under `root`, so the
demo is read by the task's real `load()`. Deterministic (fixed seeds); answer positions rotate
over the letters so no letter is favoured. Small on purpose: every demo builds in about a second.
"""

from __future__ import annotations

import dataclasses
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEED = 20240601
SECONDS = 2.0
# Plausible values no scene uses: fillers when a question has more options than true alternatives.
EXTRA_COLORS = ["purple", "orange", "white"]
EXTRA_SHAPES = ["star", "hexagon"]
STILL = "they do not move"


@dataclass
class Item:
    """One demo question about one scene. `answer` indexes `options`; `clip` bounds in seconds."""

    kind: str
    question: str
    options: list[str]
    answer: int
    spec: Any  # harness.synth.SceneSpec
    clip: tuple[float, float] | None = None


def load_synth() -> Any:
    from harness import synth  # imported on use: loading annotations never needs the video writer

    return synth


def scene(kind: str, rng: random.Random, seed: int) -> Any:
    """A random scene fitted to the question kind (e.g. a colour change for "change")."""
    s = load_synth()
    spec = s.random_scene(rng)
    change = None
    if kind in ("change", "clip_before", "clip_after"):
        change = rng.choice([c for c in s.COLORS if c != spec.color])
    appear = rng.random() < 0.5 if kind == "appear" else False
    return dataclasses.replace(spec, change_to=change, appear=appear, seed=seed)


def truth(kind: str, spec: Any, s: Any) -> tuple[str, str, list[str]]:
    """(question, true answer, distractor pool) for a kind of question about `spec`."""
    colors, shapes = list(s.COLORS) + EXTRA_COLORS, list(s.SHAPES) + EXTRA_SHAPES
    if kind == "color":
        return "What colour are the moving shapes?", spec.color, colors
    if kind == "change":
        return "What colour do the shapes turn into?", spec.change_to, colors
    if kind == "clip_before":
        return "What colour are the shapes during this clip?", spec.color, colors
    if kind == "clip_after":
        return "What colour are the shapes during this clip?", spec.change_to, colors
    if kind == "shape":
        return "Which shape is shown in the video?", spec.shape, shapes
    if kind == "count":
        return "How many shapes are in the video?", str(spec.count), [str(n) for n in range(1, 7)]
    if kind == "direction":
        return "In which direction do the shapes move?", spec.direction, list(s.DIRECTIONS) + [STILL]
    if kind == "appear":
        return ("Are any shapes visible at the very start of the video?", "no" if spec.appear else "yes",
                ["yes", "no", "not sure"])
    raise ValueError(f"unknown demo question kind {kind!r}")


def item(kind: str, spec: Any, n_options: int, pos: int, rng: random.Random, seconds: float = SECONDS) -> Item:
    """A question with the true answer at option `pos` and n_options-1 false distractors."""
    question, answer, pool = truth(kind, spec, load_synth())
    distractors = rng.sample([p for p in pool if p != answer], n_options - 1)
    options = distractors[:pos] + [answer] + distractors[pos:]
    margin = 0.1 * seconds  # keep clip edges away from the halfway colour change
    clip = {"clip_before": (0.0, seconds / 2 - margin), "clip_after": (seconds / 2 + margin, seconds)}.get(kind)
    return Item(kind, question, options, pos, spec, clip)


class Positions:
    """Answer positions rotating over the letters, one rotation per option count, so that among
    the questions with n options every letter is the answer equally often (give or take one)."""

    def __init__(self) -> None:
        self.used: dict[int, int] = {}

    def next(self, n_options: int) -> int:
        i = self.used.get(n_options, 0)
        self.used[n_options] = i + 1
        return i % n_options


def write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


# -- MVBench ---------------------------------------------------------------------------------------
# task -> (question kind(s), options, media kind). Media: "mp4" | "gif" | "frames" (3 fps folder).
MVBENCH_PLAN: dict[str, tuple[tuple[str, ...], int, str]] = {
    "action_sequence": (("clip_before", "clip_after"), 4, "mp4"),
    "episodic_reasoning": (("clip_before", "clip_after"), 5, "frames"),
    "fine_grained_action": (("shape",), 4, "gif"),
    "moving_attribute": (("color",), 3, "mp4"),
    "moving_count": (("count",), 4, "mp4"),
    "moving_direction": (("direction",), 4, "mp4"),
    "object_existence": (("appear",), 3, "mp4"),
    "state_change": (("change",), 3, "mp4"),
}
MVBENCH_PER_TASK = 6


def build_mvbench(root: Path, folders: dict[str, tuple[tuple[str, ...], bool]]) -> None:
    """json/<task>.json for 8 tasks x 6 questions, media in the seed's per-task folders."""
    s, rng, pos = load_synth(), random.Random(SEED), Positions()
    for t_i, (task, (kinds, n_opt, media)) in enumerate(MVBENCH_PLAN.items()):
        folder, bounded = folders[task][0][0], folders[task][1]
        records = []
        for i in range(MVBENCH_PER_TASK):
            kind = kinds[i % len(kinds)]
            seconds = 3.0 if media == "frames" else SECONDS
            it = item(kind, scene(kind, rng, seed=1000 * t_i + i), n_opt, pos.next(n_opt), rng, seconds)
            name = f"demo_{task}_{i:02d}" + {"mp4": ".mp4", "gif": ".gif", "frames": ""}[media]
            target = root / folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if media == "frames":
                s.write_frame_folder(it.spec, target, fps=3, seconds=seconds)
            elif media == "gif":
                s.write_gif(it.spec, target, seconds=seconds)
            else:
                s.write_mp4(it.spec, target, seconds=seconds)
            rec: dict[str, Any] = {"video": name, "question": it.question, "candidates": it.options,
                                   "answer": it.options[it.answer]}
            if bounded:
                rec["start"], rec["end"] = it.clip or (0.0, seconds)
            records.append(rec)
        write_json(root / "json" / f"{task}.json", records)


# -- per-video question sets (Video-MME, Perception Test) -------------------------------------------
def per_video(n_videos: int, per: int, n_options: int, seed: int,
              write: Callable[[Any, int], None]) -> list[list[Item]]:
    """n_videos scenes (written by `write(spec, index)`), each with `per` questions of different kinds."""
    rng, pos, out = random.Random(seed), Positions(), []
    for v in range(n_videos):
        kinds = ["change" if v % 3 == 0 else "color", "count", "direction", "shape"]
        spec = scene(kinds[0], rng, seed=seed % 10_000 + v)
        write(spec, v)
        out.append([item(k, spec, n_options, pos.next(n_options), rng) for k in kinds[:per]])
    return out


def subtitle_srt(spec: Any, seconds: float = SECONDS) -> str:
    """Two cues that name the colour (and the change), so the with-subtitles setting carries signal."""
    first = f"Look at the {spec.color} {spec.shape}s moving {spec.direction}."
    second = f"Now they turn {spec.change_to}." if spec.change_to else f"They are still {spec.color}."
    half = seconds / 2
    return (f"1\n{_srt_time(0.0)} --> {_srt_time(half)}\n{first}\n\n"
            f"2\n{_srt_time(half)} --> {_srt_time(seconds)}\n{second}\n")


def _srt_time(t: float) -> str:
    ms = round(t * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def fake_uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
