"""MVBench (OpenGVLab, CVPR 2024): 20 temporal tasks x 200 multiple-choice questions = 4,000.

Files, as on the hub (OpenGVLab/MVBench): `json/<task>.json`, each a list of
`{video, question, candidates: [...], answer: <candidate text>, start?, end?}`; media under the
per-task folders of the seed's table (`FOLDERS`): tvqa episodes are 3-fps frame folders
(00001.jpg, ...), `.gif` files are read as gifs, clip bounds apply where the table says so.
Split: "test" (labels public). Subset = task; ids "<task>/<index:04d>". Options: `tasks` (a list,
or names joined by "+" or ",") restricts the tasks read.
Metric: accuracy = correct / all questions (micro), per task, and the mean of task accuracies.
Parsing: the seed's rule (`parse`); unparsed is its own state, never a silent option C.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any, ClassVar

from harness.errors import ConfigError, DataError
from harness.paths import safe_join
from harness.task import Option, Task
from harness.types import Frames, MediaRef, Parsed, Sample

from . import _demo
from ._mcq import (
    LETTERS,
    BadRecord,
    Collector,
    contained_option,
    drop_answer_word,
    letter_class,
    mcq_instruction,
    mcq_metrics,
    need,
    need_options,
    need_records,
    read_json,
    seed_letter,
)

log = logging.getLogger(__name__)

# task -> (video folder candidates, first existing wins; clip bounds used). From the seed's table.
# fine_grained_action: the seed's inference folder "Moments_in_Time_Raw" (its scoring script spells it "pMoments_...").
FOLDERS: dict[str, tuple[tuple[str, ...], bool]] = {
    "action_antonym": (("ssv2_video/",), False),
    "action_count": (("perception/videos/",), False),
    "action_localization": (("sta/sta_video/",), True),
    "action_prediction": (("star/Charades_v1_480/",), True),
    "action_sequence": (("star/Charades_v1_480/",), True),
    "character_order": (("perception/videos/",), False),
    "counterfactual_inference": (("clevrer/video_validation/",), False),
    "egocentric_navigation": (("vlnqa/",), False),
    "episodic_reasoning": (("tvqa/frames_fps3_hq/",), True),
    "fine_grained_action": (("Moments_in_Time_Raw/videos/", "pMoments_in_Time_Raw/videos/"), False),
    "fine_grained_pose": (("nturgbd/",), False),
    "moving_attribute": (("clevrer/video_validation/",), False),
    "moving_count": (("clevrer/video_validation/",), False),
    "moving_direction": (("clevrer/video_validation/",), False),
    "object_existence": (("clevrer/video_validation/",), False),
    "object_interaction": (("star/Charades_v1_480/",), True),
    "object_shuffle": (("perception/videos/",), False),
    "scene_transition": (("scene_qa/video/",), False),
    "state_change": (("perception/videos/",), False),
    "unexpected_action": (("FunQA_test/test/",), False),
}
FRAME_TASKS = {"episodic_reasoning": 3.0}  # task -> fps the frames were extracted at
MAX_CANDIDATES = 5  # episodic_reasoning has 5; counterfactual_inference has real 1- and 2-candidate items


class MVBench(Task):
    name: ClassVar[str] = "mvbench"
    splits: ClassVar[dict[str, bool]] = {"test": True}
    default_split: ClassVar[str] = "test"
    prompt_file: ClassVar[str] = "mvbench.txt"
    option_specs: ClassVar[dict[str, Option]] = {
        "tasks": Option(str, None, "the MVBench tasks to read, names joined by + (default: every task file present)")}

    # -- data ------------------------------------------------------------------------------
    def load(self) -> list[Sample]:
        col = Collector(self.name)
        for task in self._task_names():
            path = self.root / "json" / f"{task}.json"
            data = read_json(path)
            if not isinstance(data, list):
                raise DataError("expected a JSON list of questions", file=str(path))
            need_records(data, path)
            folder = self._folder(task)
            for i, rec in enumerate(data):
                sid, where = f"{task}/{i:04d}", f"#{i}"
                try:
                    col.add(self._sample(task, folder, sid, rec, path, where), path, where)
                except (BadRecord, DataError) as e:
                    col.bad(sid, e, path, where, subset=task)
        return col.samples

    def _task_names(self) -> list[str]:
        chosen = self.option("tasks")
        if chosen:
            # "+" as well as ",": the CLI's --task-args already splits its pairs on commas
            names = [n for n in re.split(r"[,+\s]+", chosen) if n]
            unknown = [n for n in names if n not in FOLDERS]
            if unknown:
                raise ConfigError(f"unknown MVBench task(s) {unknown}", hint=f"choose from {sorted(FOLDERS)}")
            return names  # an explicitly chosen task whose file is missing is a DataError
        jdir = self.root / "json"
        present = [t for t in FOLDERS if (jdir / f"{t}.json").is_file()]
        if not present:
            raise DataError("no MVBench task files (json/<task>.json)", file=str(jdir),
                            hint="download OpenGVLab/MVBench and point --data-root at its parent")
        if len(present) < len(FOLDERS):  # a partial copy (or the demo): say what is left out
            log.warning("mvbench: %d of %d task files present; missing: %s", len(present), len(FOLDERS),
                        ", ".join(t for t in FOLDERS if t not in present))
        return present

    def _folder(self, task: str) -> str:
        candidates = FOLDERS[task][0]
        return next((c for c in candidates if (self.root / c).is_dir()), candidates[0])

    def _sample(self, task: str, folder: str, sid: str, rec: Any, path: Path, where: str) -> Sample:
        video, question = need(rec, "video"), need(rec, "question")
        cands = need_options(need(rec, "candidates", list), "candidates", 1, MAX_CANDIDATES)
        answer = need(rec, "answer")
        if answer not in cands:
            raise BadRecord(f"answer {answer!r:.60} is not one of the candidates")
        start = end = None
        if FOLDERS[task][1] and (rec.get("start") is not None or rec.get("end") is not None):
            start, end = need(rec, "start", (int, float)), need(rec, "end", (int, float))
            if not 0 <= start <= end:
                raise BadRecord(f"bad clip bounds start={start} end={end}")
        # Joined under the task's folder: a video may not leave it (except into an --allow-root folder),
        # while the folder itself may be a symlink to wherever that source dataset is stored.
        target = safe_join(self.root / folder, video, file=str(path), record=where)
        fps = FRAME_TASKS.get(task)
        # by the annotation's name: the real path may have none (a Hugging Face hub cache's blobs/<hash>)
        kind = "frames" if fps else "gif" if Path(video).suffix.lower() == ".gif" else "video"
        media = MediaRef(str(target), kind, None if start is None else float(start),
                         None if end is None else float(end), fps)
        last = len(cands) - 1 - cands[::-1].index(answer)  # the seed's answer_idx: the last candidate equal to it
        return Sample(id=sid, task=self.name, media=media, question=question, options=list(cands),
                      answer=LETTERS[last], subset=task,
                      meta={"clip": None if start is None else [start, end], "video": video})

    @classmethod
    def build_demo(cls, root: Path) -> None:
        _demo.build_mvbench(root, FOLDERS)

    # -- prompting and parsing ---------------------------------------------------------------
    def prompt(self, sample: Sample, frames: Frames | None = None) -> str:
        return mcq_instruction(self.template(), sample)

    def parse(self, sample: Sample, prediction: str) -> Parsed:
        """Seed rule: drop "answer"/"Answer"; first `[\\(,\\ ]*<L>[\\),\\ ]*` (L = the option
        letters, case-sensitive, so the article "A" counts) stripped of spaces and parentheses must
        be one letter, else unparsed; no letter at all -> first option text contained in the output."""
        opts = sample.options or []
        text = drop_answer_word(prediction)
        hit = re.search(rf"[\(,\ ]*{letter_class(len(opts))}[\),\ ]*", text)
        if hit:
            letter = seed_letter(hit.group(0), len(opts))
            return Parsed(letter, "letter") if letter else Parsed(None, "none")
        i = contained_option(text, opts)
        return Parsed(LETTERS[i], "option_text") if i is not None else Parsed(None, "none")

    # -- scoring ---------------------------------------------------------------------------------
    def aggregate(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        out = mcq_metrics(records, task=lambda r: r.get("subset"))
        accs = [g["accuracy"] for g in out["by_task"].values() if g["accuracy"] is not None]
        out["task_mean_accuracy"] = round(sum(accs) / len(accs), 6) if accs else None
        return out


# -- test/data-prep helper: the HERMES reformatted copy -> official per-task files ---------------------
HERMES_PREFIX = "/data/mvbench/videos/"
HERMES_ALIASES = {"fine_grained_action": "Moments_in_Time_Raw/videos/", "fine_grained_pose": "nturgbd_convert/"}


def hermes_to_official(src: Path, root: Path) -> dict[str, int]:
    """Write `root/json/<task>.json` in the official schema from HERMES's `mvbench.json` (blocks of 200
    in alphabetical task order); tvqa `clip` becomes start/end, bounds HERMES lost stay absent."""
    records = json.loads(Path(src).read_text(encoding="utf-8"))
    order = sorted(FOLDERS)
    per_task: dict[str, list[dict[str, Any]]] = {t: [] for t in order}
    for i, rec in enumerate(records):
        task = order[i // 200]
        rel = rec["video_path"].removeprefix(HERMES_PREFIX)
        prefixes = [p for p in (HERMES_ALIASES.get(task), *FOLDERS[task][0]) if p and rel.startswith(p)]
        if not prefixes:
            raise ValueError(f"record {i}: {rel!r} is not under a {task} folder")
        conv = rec["conversations"][0]
        out = {"video": rel[len(prefixes[0]):], "question": conv["question"], "candidates": conv["choices"],
               "answer": conv["answer"]}
        if "clip" in rec:
            out["start"], out["end"] = rec["clip"]
        per_task[task].append(out)
    (root / "json").mkdir(parents=True, exist_ok=True)
    for task, items in per_task.items():
        (root / "json" / f"{task}.json").write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    return {t: len(v) for t, v in per_task.items()}
