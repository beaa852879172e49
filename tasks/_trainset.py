"""Synthetic instruction data for training the tiny model, in the official VideoLLaMA2 format.

Scenes come from harness.synth (the generator behind every demo set) with seeds disjoint from the
demos', questions are the demo kinds, and each question's instruction is rendered by a benchmark
task's own `prompt()` (MVBench, Video-MME, EgoSchema, Perception Test styles, plus short open
answers) so a model trained here sees the prompts it is evaluated with. Output: `videos/*.mp4`,
a few `images/*.png`, `train.json` (the instruction mix, all styles), `grounding.json` (the same
media, every question kind asked open-ended: stage 1 of the tiny recipe), and text-only drills of
the option look-up that the tiny base LLM is trained on (scripts/train_tiny_base.sh:
`lookup_options.json` with the options alone, then `lookup.json` with half of them inside a
benchmark's whole prompt). Each is a list of

    {"id": ..., "video": "videos/x.mp4", "conversations": [{"from": "human", "value": "<video>\\n..."},
                                                          {"from": "gpt", "value": "blue"}, ...]}
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from harness.types import Sample

from . import _demo
from ._mcq import LETTERS, options_block

# Every demo scene seed is below 100_000 (tasks/_demo.py and the task modules): these never meet them.
SEED_BASE = 5_000_000
SCENE_KINDS = ["plain", "plain", "change", "appear"]
# Question kinds that have one true answer for each scene kind.
QUESTIONS = {
    "plain": ["color", "clip_color", "count", "direction", "shape"],
    "change": ["change", "count", "direction", "shape"],
    "appear": ["appear", "color", "count", "direction", "shape"],
}
# The clip questions of MVBench's demo are colour questions over a span; on a scene that does not
# change colour the whole video is a valid span.
CLIP_QUESTION = "What colour are the shapes during this clip?"
# Styles whose benchmark's official extraction reads only an option letter (PROTOCOLS.md).
LETTER_ONLY_STYLES = {"egoschema", "videomme", "videomme_subs"}
VIDEO_FRAMES, VIDEO_FPS = 16, 8  # harness.synth.write_mp4's defaults: 2 s at 8 fps
# Look-up drills: option/letter pairs per text-only record, and the share of drills mixed into the
# grounding and instruction sets so the look-up the base learnt is kept while the video is learnt.
LOOKUP_PAIRS = 8
LOOKUP_MIX = 0.1
LOOKUP_REQUEST = "Give the letter of each option in this order:"


def _styles() -> list[tuple[str, Any, int]]:
    """(style name, a task instance whose prompt() renders the instruction, number of options)."""
    from .activitynet_qa import ActivityNetQA
    from .egoschema import EgoSchema
    from .mvbench import MVBench
    from .perception_test import PerceptionTest
    from .videomme import VideoMME

    here = Path(".")
    return [("mvbench3", MVBench(here), 3), ("mvbench4", MVBench(here), 4), ("mvbench5", MVBench(here), 5),
            ("videomme", VideoMME(here), 4), ("videomme_subs", VideoMME(here), 4), ("egoschema", EgoSchema(here), 5),
            ("perception_test", PerceptionTest(here, "valid"), 3), ("open", ActivityNetQA(here), 0),
            ("activitynet", ActivityNetQA(here), 0)]


def _activitynet_question(kind: str, spec: Any, rng: random.Random) -> tuple[str, str] | None:
    """ActivityNet-QA's own phrasing (lower case, no question mark) and answer style, or None for
    kinds it does not ask."""
    from ._judged import other_direction, plural

    things = plural(spec.shape, spec.count)
    be, do = ("is", "does") if spec.count == 1 else ("are", "do")
    if kind in ("color", "clip_color"):
        return f"what color {be} the {things}", spec.color
    if kind == "count":
        return f"how many {plural(spec.shape, 2)} are there", str(spec.count)
    if kind == "direction":
        if rng.random() < 0.5:
            return f"which direction {do} the {things} move", spec.direction
        asked = spec.direction if rng.random() < 0.5 else other_direction(spec, rng)
        return f"{be} the {things} moving {asked}", "yes" if asked == spec.direction else "no"
    return None


def _turn(kind: str, spec: Any, style: tuple[str, Any, int], rng: random.Random) -> tuple[str, str]:
    """(instruction, answer) for one question about `spec` in one benchmark's prompt style."""
    name, task, n_options = style
    real_kind = "color" if kind == "clip_color" else kind
    if name == "activitynet":
        asked = _activitynet_question(kind, spec, rng)
        if asked is not None:
            question, answer = asked
            return task.prompt(Sample(id="", task=task.name, media=None, question=question)), answer
    if n_options == 0:  # open-ended: the answer is the true option text itself
        it = _demo.item(real_kind, spec, 2, 0, rng)
        question = CLIP_QUESTION if kind == "clip_color" else it.question
        return task.prompt(Sample(id="", task=task.name, media=None, question=question)), it.options[it.answer]
    it = _demo.item(real_kind, spec, n_options, rng.randrange(n_options), rng)
    question = CLIP_QUESTION if kind == "clip_color" else it.question
    sample = Sample(id="", task=task.name, media=None, question=question, options=it.options)
    # Multiple-choice answers are the option's text, which the official extraction of MVBench and
    # Perception Test accepts when no letter is found. The official EgoSchema and Video-MME
    # extractions read the first option letter anywhere in the reply, so their styles answer
    # "<text> <letter>": a tiny LLM does not learn the one-pass "see the video, emit the letter"
    # look-up (letter-only answers stayed at chance while the text was right 2 times in 3), but once
    # the text is written the letter is a look-up of that text among the options (drilled by
    # lookup_record). Demo option texts are lower case, so the letter is the first capital A-E.
    text = it.options[it.answer]
    answer = f"{text} {LETTERS[it.answer]}" if name in LETTER_ONLY_STYLES else text
    if name == "videomme_subs":  # Video-MME's second setting: the demo's subtitles, picked as the seed picks them
        from .videomme import read_cues, select_subtitles

        lines = select_subtitles(read_cues(_demo.subtitle_srt(spec)), VIDEO_FRAMES, VIDEO_FPS, 8)
        return task.template().fill("subtitles", subtitles=lines, instruction=task.prompt(sample)), answer
    return task.prompt(sample), answer


def lookup_record(rid: str, style: tuple[str, Any, int], rng: random.Random, in_prompt: bool) -> dict[str, Any]:
    """A text-only drill of the look-up that letter answers need: options in a Video-MME or
    EgoSchema layout and a list of LOOKUP_PAIRS of their texts, answered "<text> <its letter>" for
    each. Why this shape (measured on the tiny configuration, reverse associative recall): with one
    look-up per record the circuit does not form in CPU minutes; with eight it forms within 1,000 to
    2,000 steps, but only when the texts in the answer are predictable: random texts in the answer
    (trained on, as every answer token is) kept the letters at chance. Here the texts are copied
    from the request, so only the letters need the look-up. `in_prompt`: the options inside the
    benchmark's whole prompt (the distance to the answer the real prompt puts between them) rather
    than alone; the circuit forms on options alone, then carries over in a few hundred steps of
    both (it did not form on the mix from the start in 1,500 steps)."""
    _name, task, n_options = style
    spec = _demo.scene("color", rng, seed=0)  # only its attributes are used: no video is written
    it = _demo.item(rng.choice(["color", "count", "direction", "shape"]), spec, n_options, rng.randrange(n_options), rng)
    picks = [rng.randrange(n_options) for _ in range(LOOKUP_PAIRS)]
    sample = Sample(id="", task=task.name, media=None, question=it.question, options=it.options)
    if in_prompt:
        shown = task.prompt(sample) + "\n"
    elif task.name == "videomme":  # the option lines as that benchmark's instruction shows them
        shown = "".join(task.template().fill("option", choice=f"{LETTERS[i]}. {o}") for i, o in enumerate(it.options))
    else:
        shown = options_block(task.template(), it.options)
    request = f"{shown}{LOOKUP_REQUEST} " + " ".join(it.options[i] for i in picks)
    answer = " ".join(f"{it.options[i]} {LETTERS[i]}" for i in picks)
    return {"id": rid, "conversations": [{"from": "human", "value": request}, {"from": "gpt", "value": answer}]}


def _conversation(kinds: list[str], spec: Any, modal: str, styles_for: Callable[[str], list[Any]],
                  rng: random.Random) -> list[dict[str, str]]:
    """One human/gpt turn pair per kind, each in a style drawn from `styles_for(kind)`; the media
    placeholder opens the first turn."""
    conv = []
    for t, kind in enumerate(kinds):
        instruction, answer = _turn(kind, spec, rng.choice(styles_for(kind)), rng)
        conv.append({"from": "human", "value": (modal + "\n" if t == 0 else "") + instruction})
        conv.append({"from": "gpt", "value": answer})
    return conv


def build_trainset(root: Path, n_videos: int, *, seed: int = 0, max_turns: int = 3, image_share: float = 0.05,
                   ) -> Path:
    """Write `n_videos` scenes and their conversations under `root` (train.json, grounding.json);
    returns the path of train.json."""
    from harness import synth

    root = Path(root)
    (root / "videos").mkdir(parents=True, exist_ok=True)
    (root / "images").mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    styles = _styles()
    few_option_styles = [st for st in styles if st[2] <= 3]
    open_styles = [st for st in styles if st[2] == 0]
    records, grounding = [], []
    for v in range(n_videos):
        scene_kind = rng.choice(SCENE_KINDS)
        demo_kind = {"plain": "color", "change": "change", "appear": "appear"}[scene_kind]
        spec = _demo.scene(demo_kind, rng, seed=SEED_BASE + seed * n_videos + v)
        if scene_kind == "appear" and not spec.appear:
            spec = dataclasses.replace(spec, appear=True)
        kinds = rng.sample(QUESTIONS[scene_kind], k=min(len(QUESTIONS[scene_kind]), rng.randint(1, max_turns)))
        rec: dict[str, Any] = {"id": f"synth-{seed}-{v:06d}"}
        # A still image only answers questions that do not need motion or time.
        if scene_kind == "plain" and rng.random() < image_share:
            frame = synth.render_frames(spec, seconds=0.25)[0]
            rec["image"] = f"images/{rec['id']}.png"
            Image.fromarray(frame).save(root / rec["image"])
            kinds, modal = [k for k in kinds if k in ("color", "count", "shape")] or ["color"], "<image>"
        else:
            rec["video"] = f"videos/{rec['id']}.mp4"
            synth.write_mp4(spec, root / rec["video"])
            modal = "<video>"
        # "appear" has three possible answers, so only the styles with at most three options ask it
        pick = lambda k: few_option_styles if k == "appear" else styles
        rec["conversations"] = _conversation(kinds, spec, modal, pick, rng)
        records.append(rec)
        # The grounding stage (tiny recipe, stage 1): the same media with every kind it can answer
        # asked open-ended. On the mix alone a tiny model learns each question's answer prior and
        # stops looking at the video (the loss with another record's video equals its own); open
        # answers make the video matter before the letters are added. A separate generator keeps
        # the mix the same whatever this asks.
        g_rng = random.Random(f"grounding-{seed}-{v}")
        g_kinds = QUESTIONS[scene_kind] if modal == "<video>" else kinds
        g_conv = _conversation(g_rng.sample(g_kinds, k=len(g_kinds)), spec, modal, lambda k: open_styles, g_rng)
        grounding.append({k: val for k, val in rec.items() if k != "conversations"} | {"conversations": g_conv})
    # Text-only drills of the option look-up (the base); a tenth as many again join the other stages.
    l_rng = random.Random(f"lookup-{seed}")
    letter_styles = [st for st in styles if st[0] in ("egoschema", "videomme")]  # one each: the drills' layouts

    def drills(prefix: str, prompt_share: float) -> list[dict[str, Any]]:
        return [lookup_record(f"{prefix}-{seed}-{i:06d}", l_rng.choice(letter_styles), l_rng,
                              in_prompt=l_rng.random() < prompt_share) for i in range(n_videos * 2)]

    options_alone, lookups = drills("lookup-options", 0.0), drills("lookup", 0.5)
    n_mix = int(n_videos * LOOKUP_MIX)
    grounding += lookups[:n_mix]
    records += lookups[n_mix:2 * n_mix]
    for name, recs in (("grounding.json", grounding), ("train.json", records), ("lookup_options.json", options_alone),
                       ("lookup.json", lookups)):
        (root / name).write_text(json.dumps(recs, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return root / "train.json"
