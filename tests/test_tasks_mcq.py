"""The four multiple-choice tasks: real annotation files through the real loaders, the seed's and
the benchmarks' extraction rules (quirks included), bad records, aggregates, submissions, demos."""

from __future__ import annotations

import csv
import json
import random
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import ConfigError, DataError
from harness.scoring import SEED_FALLBACK_LETTER, score_records
from harness.tasks.egoschema import EgoSchema
from harness.tasks.mvbench import FOLDERS, MVBench, hermes_to_official
from harness.tasks.perception_test import PerceptionTest
from harness.tasks.videomme import PARQUET, VideoMME, parse_official, parse_seed, seq_frames
from harness.types import Frames, Sample

TASKS = sorted(FOLDERS)


# -- builders of official-layout folders ---------------------------------------------------------------
@pytest.fixture(scope="session")
def hermes(real_fixtures: Path) -> list[dict[str, Any]]:
    return json.loads((real_fixtures / "mvbench" / "mvbench.json").read_text())


@pytest.fixture(scope="session")
def mvbench_root(real_fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mvbench")
    assert hermes_to_official(real_fixtures / "mvbench" / "mvbench.json", root) == {t: 200 for t in TASKS}
    return root


def ego_records(n: int = 5031, labelled: int = 500) -> list[dict[str, Any]]:
    """EgoSchema is not kept in the repository (Ego4D licence terms; tests/data/real/SOURCES.md), so
    5,031 stand-ins in the official questions.json schema: {q_uid (uuid4), google_drive_id (33
    characters), question, "option 0".."option 4"}; the 500 labelled ones carry "CA", the answer
    index (as LVNet's 500questions.jsonl does), and are scattered among the others as in the release."""
    rng = random.Random(5031)
    marked = set(rng.sample(range(n), labelled))
    objs = ["dough", "paint brush", "bicycle chain", "laundry", "seedlings", "guitar strings", "cardboard box"]
    verbs = ["prepares", "repairs", "sorts", "cleans", "inspects"]
    chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    recs = []
    for i in range(n):
        obj = objs[i % len(objs)]
        opts = [f"c {verbs[(i + k) % 5]} the {obj}" + (', then "checks" it.' if k == 2 else ".") for k in range(5)]
        rec = {"q_uid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
               "google_drive_id": "1" + "".join(rng.choice(chars) for _ in range(32)),
               "question": f"Considering how c handles the {obj} throughout the video, what is c\u2019s overall aim? (#{i})",
               **{f"option {k}": o for k, o in enumerate(opts)}}
        if i in marked:
            rec["CA"] = rng.randrange(5)
        recs.append(rec)
    return recs


def ego_questions(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records as questions.json has them (the "CA" label dropped)."""
    return [{k: v for k, v in r.items() if k != "CA"} for r in recs]


@pytest.fixture(scope="session")
def ego_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("egoschema")
    recs = ego_records()
    (root / "questions.json").write_text(json.dumps(ego_questions(recs)))
    (root / "subset_answers.json").write_text(json.dumps({r["q_uid"]: r["CA"] for r in recs if "CA" in r}))
    return root


def mini100_to_official(src: Path, root: Path, split: str = "valid") -> None:
    """The reformatted 100-question subset -> `mc_question_<split>.json` in the official schema."""
    out: dict[str, Any] = {}
    for r in json.loads(src.read_text()):
        video_id, qid = r["sample_id"].rsplit("_", 1)
        area, reasoning = r["split_name"].split("_")
        entry = out.setdefault(video_id, {"metadata": {"video_id": video_id, "split": split}, "mc_question": []})
        entry["mc_question"].append({"id": int(qid), "question": r["question"], "options": r["option"],
                                     "answer_id": r["answer"], "area": area, "reasoning": reasoning, "tag": []})
    (root / f"mc_question_{split}.json").write_text(json.dumps(out))


def vmme_row(n: int = 1, **over: Any) -> dict[str, Any]:
    row = {"video_id": f"{n:03d}", "duration": "short", "domain": "Knowledge", "sub_category": "Humanity & History",
           "url": "https://www.youtube.com/watch?v=vid", "videoID": f"vid{n}", "question_id": f"{n:03d}-1",
           "task_type": "Counting Problem", "question": "How many red socks are above the fireplace?",
           "options": ["A. 1.", "B. 4.", "C. 2.", "D. 3."], "answer": "D"}
    return {**row, **over}


def write_vmme(root: Path, rows: list[dict[str, Any]]) -> Path:
    path = root / PARQUET
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def sample(options: list[str], answer: str | None = "A", **kw: Any) -> Sample:
    return Sample(id="s", task="t", media=None, question="q?", options=options, answer=answer, **kw)


# -- real annotation files through the real loaders ---------------------------------------------------------
def test_mvbench_loads_all_4000_real_questions(mvbench_root: Path, hermes: list[dict[str, Any]]) -> None:
    samples = MVBench(mvbench_root).load()
    assert len(samples) == 4000 and not [s for s in samples if s.error]
    assert Counter(s.subset for s in samples) == {t: 200 for t in TASKS}
    assert Counter(len(s.options) for s in samples) == {4: 2376, 3: 1301, 5: 200, 2: 118, 1: 5}
    assert samples[7].id == "action_antonym/0007"
    for s, h in zip(samples, hermes):  # same order as HERMES (alphabetical task blocks)
        conv = h["conversations"][0]
        assert s.options == conv["choices"] and s.options["ABCDE".index(s.answer)] == conv["answer"]
        folder = FOLDERS[s.subset][0][0]
        assert f"/{folder}" in s.media.path, (s.subset, s.media.path)
    er = [s for s in samples if s.subset == "episodic_reasoning"]
    assert {s.media.kind for s in er} == {"frames"} and {s.media.fps for s in er} == {3.0}
    assert (er[0].media.start, er[0].media.end) == (0.0, 38.32)
    assert {s.media.kind for s in samples if s.subset != "episodic_reasoning"} == {"video"}


def test_mvbench_reads_moments_in_time_where_the_seed_does_else_the_other_spelling(mvbench_root: Path,
                                                                                  tmp_path: Path) -> None:
    root = tmp_path / "r"
    (root / "json").mkdir(parents=True)
    name = "json/fine_grained_action.json"
    (root / name).write_bytes((mvbench_root / name).read_bytes())
    first = MVBench(root).load()[0]
    assert "/Moments_in_Time_Raw/videos/validation/" in first.media.path  # the seed's inference folder
    (root / "pMoments_in_Time_Raw" / "videos").mkdir(parents=True)  # only the other spelling is there
    assert "/pMoments_in_Time_Raw/videos/validation/" in MVBench(root).load()[0].media.path


def test_egoschema_loads_all_5031_questions(ego_root: Path) -> None:
    recs = ego_records()
    full = EgoSchema(ego_root, "full").load()
    assert len(full) == 5031 and not [s for s in full if s.error]
    assert all(s.answer is None and len(s.options) == 5 for s in full)
    assert [s.id for s in full] == [r["q_uid"] for r in recs]
    subset = EgoSchema(ego_root).load()
    labels = json.loads((ego_root / "subset_answers.json").read_text())
    assert len(subset) == 500 and not [s for s in subset if s.error]
    assert {s.id: "ABCDE".index(s.answer) for s in subset} == labels
    ca = [r for r in recs if "CA" in r]  # the labelled questions, in questions.json order, options as written
    assert [(s.id, s.options, s.question) for s in subset] == \
        [(r["q_uid"], [r[f"option {k}"] for k in range(5)], r["question"]) for r in ca]
    assert subset[0].media.path.endswith(f"good_clips_git/{subset[0].id}.mp4")


def test_egoschema_reads_jsonl_questions_too(ego_root: Path, tmp_path: Path) -> None:
    (tmp_path / "questions.json").write_text("\n".join(json.dumps(r) for r in ego_questions(ego_records())) + "\n")
    (tmp_path / "subset_answers.json").write_bytes((ego_root / "subset_answers.json").read_bytes())
    assert [(s.id, s.options) for s in EgoSchema(tmp_path, "full").load()] == \
        [(s.id, s.options) for s in EgoSchema(ego_root, "full").load()]


def test_perception_test_loads_the_real_100(real_fixtures: Path, tmp_path: Path) -> None:
    src = real_fixtures / "perception_test" / "perception_test_mini100.json"
    mini100_to_official(src, tmp_path)
    samples = PerceptionTest(tmp_path).load()
    raw = json.loads(src.read_text())
    assert len(samples) == 100 and not [s for s in samples if s.error]
    assert [s.id for s in samples] == [r["sample_id"] for r in raw]
    assert [s.answer for s in samples] == ["ABC"[r["answer"]] for r in raw]
    assert [f"{s.meta['area']}_{s.meta['reasoning']}" for s in samples] == [r["split_name"] for r in raw]
    assert samples[0].media.path.endswith("videos/video_1654.mp4")


def test_perception_test_test_split_has_no_labels(real_fixtures: Path, tmp_path: Path) -> None:
    mini100_to_official(real_fixtures / "perception_test" / "perception_test_mini100.json", tmp_path, "test")
    data = json.loads((tmp_path / "mc_question_test.json").read_text())
    for entry in data.values():
        for q in entry["mc_question"]:
            del q["answer_id"]
    (tmp_path / "mc_question_test.json").write_text(json.dumps(data))
    samples = PerceptionTest(tmp_path, "test").load()
    assert len(samples) == 100 and all(s.answer is None and not s.error for s in samples)


# -- extraction rules --------------------------------------------------------------------------------
@pytest.mark.parametrize("text,n,want", [
    ("(B) Scattering something down", 3, ("B", "letter")),
    ("A person is piling something up", 3, ("A", "letter")),  # the article "A" is a letter to the seed
    ("Answer: C", 3, ("C", "letter")),
    ("Best option: C", 4, ("B", "letter")),  # the "B" of "Best" comes first
    ("(A), because it piles", 4, (None, "none")),  # "(A)," strips to "A),": the seed fell back to option 2
    (", B", 3, (None, "none")),  # the comma is inside the match and survives strip("()")
    ("Definitely piling something up", 3, ("C", "option_text")),  # "D" is no letter with 3 options
    ("piling something up", 3, ("C", "option_text")),
    ("no idea", 3, (None, "none")),
    ("A", 1, ("A", "letter")),
    ("B", 1, (None, "none")),
])
def test_mvbench_seed_rule(text: str, n: int, want: tuple[str | None, str]) -> None:
    opts = ["Not sure", "Scattering something down", "Piling something up", "Nothing"][:n] if n > 1 else ["only one"]
    p = MVBench(Path(".")).parse(sample(opts), text)
    assert (p.answer, p.rule) == want


@pytest.mark.parametrize("text,want", [
    ("(C)", "C"), ("The answer is E.", "E"), ("Answer: (B) because", "B"),
    ("( A)", None),  # strip() leaves "( A)", strip("()") leaves " A": not a letter
    ("(A )", None), ("c is cooking", None), ("C is cooking.", "C"), ("Everything points to D", "E"),
])
def test_egoschema_seed_rule(text: str, want: str | None) -> None:
    assert EgoSchema(Path(".")).parse(sample(list("vwxyz")), text).answer == want


@pytest.mark.parametrize("text,want", [
    ("(B)", ("B", "letter")), ("Cannot tell", ("C", "letter")), ("Because yes", ("B", "letter")),
    ("Yes", ("C", "option_text")),
    ("yes", ("C", "option_text")), ("no", ("B", "option_text")), ("yes.", (None, "none")),
    ("answer: yes", (None, "none")), ("D", (None, "none")),
])
def test_perception_test_seed_rule(text: str, want: tuple[str | None, str]) -> None:
    p = PerceptionTest(Path(".")).parse(sample(["I don't know", "No", "Yes"]), text)
    assert (p.answer, p.rule) == want


# Video-MME's published evaluation/output_test_template.json: (options, answer, response) per question.
TEMPLATE = [
    (["Apples.", "Candles.", "Berries.", "The three kinds are of the same number."], "C", "C. Berries."),
    (["It is a news report.", "It is a documentary.", "It is a travel vlog.", "It is a tutorial."], "A", "D."),
    (["1.", "4.", "2.", "3."], "D", "D. 3"),
    (["Inkstone.", "Niche.", "Jade.", "Sacrificial table."], "C", "Answer: C. Jade."),
    (["Ming Dynasty.", "A new railway line.", "Treasures.", "Highway realignment."], "D", "D"),
    (["4.", "9.", "5.", "13."], "B", "D. 13"),
    (["3.", "4.", "2.", "5."], "B", "B"),
    (["Beef.", "Steak.", "Steak burgers.", "Standardization."], "C", "C."),
    (["Mongolia.", "Russia.", "Germany.", "United States."], "D", "D. United States."),
]


def test_videomme_template_responses_official_and_seed() -> None:
    official = [parse_official(r).answer for _, _, r in TEMPLATE]
    assert official == ["C", "D", "D", "A", "D", "D", "B", "C", "D"]  # "Answer:" -> its "A" wins
    assert sum(a == t for a, (_, t, _) in zip(official, TEMPLATE, strict=True)) == 6
    seed = [parse_seed(r, lettered(o)).answer for o, _, r in TEMPLATE]
    assert seed == ["C", "D", "D", "C", "D", "D", "B", "C", "D"]  # the seed drops "Answer" first
    assert sum(a == t for a, (_, t, _) in zip(seed, TEMPLATE, strict=True)) == 7


@pytest.mark.parametrize("text,want", [
    ("The best answer is B", "B"), ("The correct answer is C.", "C"), ("Best option: C", "B"),
    ("The best option is D", "D"), ("the video shows a man cooking food in a small kitchen at night", None),
    ("", None), ("d", None),
])
def test_videomme_official_rule(text: str, want: str | None) -> None:
    assert parse_official(text).answer == want


def lettered(options: list[str]) -> list[str]:
    return [f"{L}. {o}" for L, o in zip("ABCD", options)]


def test_videomme_seed_rule_option_text_and_digit_words() -> None:
    socks = lettered(["1.", "4.", "2.", "3."])
    assert parse_seed("there are three socks", socks).answer == "D"  # "3" -> "three"
    assert parse_seed("they are berries", lettered(TEMPLATE[0][0])).answer == "C"  # "Berries." cut to "Berries"
    # the seed's `(.*).` cuts the last character: "13" is matched as "1" ("one")
    assert parse_seed("only one jar", lettered(["4.", "9.", "5.", "13"])).answer == "D"
    assert parse_seed("[B]", socks).answer == "B"
    assert parse_seed("nothing here", socks).answer is None
    # the choice as the parquet spells it: "A.x" (no space) never matches the seed's "[A-D]\. (.*)."
    assert parse_seed("x", ["A.xy", "B. yy", "C. zz", "D. ww"]).answer is None


@pytest.mark.parametrize("task", [MVBench, EgoSchema, PerceptionTest, VideoMME])
@settings(max_examples=150, deadline=None)
@given(text=st.text(), options=st.lists(st.text(max_size=12), min_size=0, max_size=5))
def test_parse_never_raises(task: type, text: str, options: list[str]) -> None:
    p = task(Path(".")).parse(sample(options), text)
    assert p.answer is None or (len(p.answer) == 1 and p.answer in "ABCDE")


@settings(max_examples=100, deadline=None)
@given(text=st.text(), options=st.lists(st.text(max_size=12), min_size=0, max_size=5))
def test_videomme_seed_parser_never_raises(text: str, options: list[str]) -> None:
    p = VideoMME(Path("."), options={"parser": "seed"}).parse(sample(options), text)
    assert p.answer is None or p.answer in "ABCD"


# -- bad input: every case names the annotation file and the record -------------------------------------
def mv_root(tmp_path: Path, records: list[Any], task: str = "action_sequence") -> Path:
    (tmp_path / "json").mkdir(parents=True, exist_ok=True)
    (tmp_path / "json" / f"{task}.json").write_text(json.dumps(records))
    return tmp_path


GOOD_MV = {"video": "X1.mp4", "question": "What next?", "candidates": ["a", "b", "c"], "answer": "b",
           "start": 1.0, "end": 4.5}


@pytest.mark.parametrize("bad,needle", [
    ({"question": None}, "missing field 'question'"),
    ({"candidates": ["a", "b", "c", "d", "e", "f"]}, "has 6 options"),
    ({"candidates": []}, "has 0 options"),
    ({"answer": "z"}, "not one of the candidates"),
    ({"video": "../../../etc/passwd"}, "escapes the data root"),
    ({"video": "/etc/passwd"}, "is not relative to the data root"),
    ({"video": "../../ssv2_video/1.webm"}, "escapes the data root"),  # videos stay in their task folder
    ({"start": "soon"}, "field 'start'"),
    ({"start": 5.0, "end": 1.0}, "bad clip bounds"),
])
def test_mvbench_bad_records(tmp_path: Path, bad: dict[str, Any], needle: str) -> None:
    root = mv_root(tmp_path, [GOOD_MV, {**GOOD_MV, **bad}])
    good, broken = MVBench(root).load()
    assert good.error is None and good.answer == "B" and (good.media.start, good.media.end) == (1.0, 4.5)
    assert broken.id == "action_sequence/0001" and broken.subset == "action_sequence"
    assert needle in (broken.error or ""), broken.error
    assert "json/action_sequence.json" in broken.error and "record #1" in broken.error


def test_mvbench_non_object_record_and_file_errors(tmp_path: Path) -> None:
    (s,) = MVBench(mv_root(tmp_path, ["just a string"])).load()
    assert "not an object" in s.error and "action_sequence.json" in s.error
    (tmp_path / "json" / "action_sequence.json").write_text("{not json")
    with pytest.raises(DataError, match="action_sequence.json"):
        MVBench(tmp_path).load()
    with pytest.raises(DataError, match="moving_count.json"):
        MVBench(tmp_path, options={"tasks": "moving_count+state_change"}).load()
    with pytest.raises(ConfigError, match="unknown MVBench task"):
        MVBench(tmp_path, options={"tasks": "moving_counts"}).load()
    with pytest.raises(DataError, match="no MVBench task files"):
        MVBench(tmp_path / "empty").load()


@pytest.mark.parametrize("task,options,message", [
    (VideoMME, {"subtitle": "off"}, "(?s)no option 'subtitle'.*did you mean 'subtitles'"),
    (VideoMME, {"subtitles": True}, "subtitles=True is not a str"),
    (VideoMME, {"parser": "official"}, "(?s)parser='official'.*seed, evaluator"),
    (EgoSchema, {"prompt": "/x"}, "did you mean 'prompts'"),
    (MVBench, {"tasks": ["moving_count"]}, "is not a str"),
])
def test_task_options_are_declared_and_others_refused(task: type, options: dict, message: str) -> None:
    """An option a task does not have, or a value of the wrong kind, is refused at construction (before
    any model loads), naming the options it does have; a silently ignored typo would change nothing."""
    with pytest.raises(ConfigError, match=message) as e:
        task(Path("."), options=options)
    assert "prompts" in (e.value.hint or "") or "seed" in (e.value.hint or "") or "names joined" in (e.value.hint or "")


def test_mvbench_gif_and_unbounded_task(tmp_path: Path) -> None:
    rec = {"video": "v/x.gif", "question": "q", "candidates": ["a", "b"], "answer": "a", "start": 1, "end": 2}
    (s,) = MVBench(mv_root(tmp_path, [rec], "fine_grained_action")).load()
    assert s.media.kind == "gif" and s.media.start is None  # bounds apply only where the seed's table says


def write_ego(root: Path, questions: list[Any] | str, answers: dict[str, Any]) -> Path:
    text = questions if isinstance(questions, str) else json.dumps(questions)
    (root / "questions.json").write_text(text)
    (root / "subset_answers.json").write_text(json.dumps(answers))
    return root


def ego_q(uid: str, **over: Any) -> dict[str, Any]:
    return {"q_uid": uid, "google_drive_id": "g", "question": "What does c do?",
            **{f"option {i}": f"opt{i}" for i in range(5)}, **over}


def test_egoschema_bad_records(tmp_path: Path) -> None:
    qs = [ego_q("u1"), ego_q("u2", **{"option 4": None}), ego_q("u3"), ego_q("../../x"), ego_q("u1")]
    root = write_ego(tmp_path, qs, {"u1": 0, "u2": 1, "u3": 7, "../../x": 2, "u9": 3})
    by_id = {s.id: s for s in EgoSchema(root).load()}
    assert by_id["u1"].error is None and by_id["u1"].answer == "A"
    assert "missing field 'option 4'" in by_id["u2"].error and "questions.json" in by_id["u2"].error
    assert "answer index 7" in by_id["u3"].error and "subset_answers.json" in by_id["u3"].error
    assert "escapes the data root" in by_id["../../x"].error
    assert "duplicate sample id 'u1'" in by_id["u1#dup1"].error
    assert "no question" in by_id["u9"].error and "record u9" in by_id["u9"].error
    assert len(by_id) == 6


def test_egoschema_bad_jsonl_line_and_missing_files(tmp_path: Path) -> None:
    no_uid = {k: v for k, v in ego_q("u0").items() if k != "q_uid"}
    lines = [json.dumps(ego_q("u1")), "{broken", json.dumps(ego_q("u2")), json.dumps(no_uid)]
    root = write_ego(tmp_path, "\n".join(lines) + "\n", {})
    full = EgoSchema(root, "full").load()
    assert [s.id for s in full] == ["u1", "questions.json:line 2", "u2", "questions.json:line 4"]
    assert "not valid JSON" in full[1].error and "line 2" in full[1].error
    assert "missing field 'q_uid'" in full[3].error
    (root / "subset_answers.json").write_text(json.dumps({"u1": 1, "u5": 0}))
    sub = EgoSchema(root).load()
    assert [s.id for s in sub] == ["u1", "u5"] and "unreadable records at line 2, line 4" in sub[1].error
    (root / "subset_answers.json").unlink()
    with pytest.raises(DataError, match="subset_answers.json"):
        EgoSchema(root).load()
    assert len(EgoSchema(root, "full").load()) == 4  # the full split does not need the labels
    with pytest.raises(DataError, match="questions.json"):
        EgoSchema(tmp_path / "nowhere", "full").load()


def pt_q(qid: int, **over: Any) -> dict[str, Any]:
    return {"id": qid, "question": "Is it?", "options": ["x", "y", "z"], "answer_id": 1, "area": "physics",
            "reasoning": "descriptive", "tag": ["t"], **over}


def test_perception_test_bad_records(tmp_path: Path) -> None:
    data = {"video_1": {"metadata": {}, "mc_question": [pt_q(0), pt_q(1, options=["x", "y"]), pt_q(2, answer_id=3),
                                                          pt_q(3, area=None), pt_q(0)]},
            "video_2": ["not", "an", "object"], "../../video_3": {"mc_question": [pt_q(0)]}}
    (tmp_path / "mc_question_valid.json").write_text(json.dumps(data))
    by_id = {s.id: s for s in PerceptionTest(tmp_path).load()}
    assert by_id["video_1_0"].answer == "B" and by_id["video_1_0"].error is None
    assert "has 2 options, expected 3" in by_id["video_1_1"].error
    assert "answer_id 3" in by_id["video_1_2"].error and "video_1 mc_question #2" in by_id["video_1_2"].error
    assert "missing field 'area'" in by_id["video_1_3"].error
    assert "duplicate sample id" in by_id["video_1_0#dup1"].error
    assert "not an object" in by_id["video_2"].error and "record video_2" in by_id["video_2"].error
    assert "escapes the data root" in by_id["../../video_3"].error
    assert all("mc_question_valid.json" in s.error for s in by_id.values() if s.error)
    with pytest.raises(DataError, match="mc_question_test.json"):
        PerceptionTest(tmp_path, "test").load()


def test_videomme_bad_rows(tmp_path: Path) -> None:
    rows = [vmme_row(1), vmme_row(2, options=["1.", "4.", "2.", "3."]), vmme_row(3, answer="E"),
            vmme_row(4, question=None), vmme_row(5, options=["A. a", "B. b", "C. c"]),
            vmme_row(6, videoID="../../secret"), vmme_row(7, question_id="001-1"),
            vmme_row(8, options=["A. a", "C. b", "B. c", "D. d"])]
    path = write_vmme(tmp_path, rows)
    samples = VideoMME(tmp_path).load()
    assert samples[0].error is None and samples[0].options == ["1.", "4.", "2.", "3."] and samples[0].answer == "D"
    expect = ["is not lettered 'A. ...'", "answer 'E'", "missing field 'question'", "has 3 options",
              "escapes the data root", "duplicate sample id '001-1'", "is not lettered 'B. ...'"]
    for s, needle in zip(samples[1:], expect, strict=True):
        assert needle in (s.error or ""), (needle, s.error)
        assert str(path) in s.error and "row " in s.error
    assert samples[6].id == "001-1#dup1"


def test_videomme_file_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="test-00000-of-00001.parquet"):
        VideoMME(tmp_path).load()
    path = write_vmme(tmp_path, [{k: v for k, v in vmme_row().items() if k != "task_type"}])
    with pytest.raises(DataError, match="lacks columns \\['task_type'\\]"):
        VideoMME(tmp_path).load()
    path.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(DataError, match="cannot read parquet"):
        VideoMME(tmp_path).load()


# -- prompts and subtitles -------------------------------------------------------------------------------
def test_prompts_are_the_official_wording(mvbench_root: Path, ego_root: Path) -> None:
    """The exact strings are proven against the official code in tests/protocol; here, their shape."""
    mv = MVBench(mvbench_root)
    p = mv.prompt(mv.load()[0])
    assert p.startswith("Question: What is the action performed")
    assert "\nOptions:\n(A) Not sure\n(B) Scattering something down\n(C) Piling" in p and "(D)" not in p
    assert p.endswith("(C) Piling something up\nAnswer with the option's letter from the given choices directly "
                      "and only give the best option.")
    ego = EgoSchema(ego_root)
    p = ego.prompt(ego.load()[0])
    assert "(E) c prepares the guitar strings.\n" in p and p.endswith("The best answer is: ")  # its trailing space
    p = VideoMME(Path(".")).prompt(sample(["1.", "4.", "2.", "3."]))
    assert "\nA. 1.\nB. 4.\nC. 2.\nD. 3.\n" in p and p.endswith("The best answer is: ") and "ubtitle" not in p
    assert mv.deviations() == [] and mv.protocol == "videollama2@c0bb03a"
    assert mv.template().header["source"].startswith("DAMO-NLP-SG/VideoLLaMA2 @ c0bb03a")


def test_another_wording_is_a_named_prompt_set_recorded_as_a_deviation(mvbench_root: Path, tmp_path: Path) -> None:
    terse = tmp_path / "terse"
    terse.mkdir()
    (terse / "mvbench.txt").write_text("# source: our own wording, for a robustness study\n"
                                       "[option]\n{letter}={option}\n\n[instruction]\n{question}\n{options}Letter?\n")
    official = MVBench(mvbench_root, options={"tasks": "action_antonym"})
    task = MVBench(mvbench_root, options={"tasks": "action_antonym", "prompts": str(terse)})
    s = task.load()[0]
    assert task.prompt(s) == s.question + "\n" + "".join(f"{L}={o}\n" for L, o in zip("ABC", s.options)) + "Letter?"
    assert task.template_hash() != official.template_hash()  # so resume keys differ: nothing is reused
    assert task.deviations() == [f"prompt set 'terse' ({task.template_hash()}) instead of the official wording"]
    (terse / "mvbench.txt").write_text("[instruction]\n{question}\n")  # protocol text must name its source
    with pytest.raises(ConfigError, match="does not name its source"):
        MVBench(mvbench_root, options={"prompts": str(terse)}).template()


def frames_of(video_frames: int, fps: float, n: int = 8) -> Frames:
    return Frames(np.zeros((n, 2, 2, 3), np.uint8), list(range(n)), [i / fps for i in range(n)], video_frames, fps)


def test_videomme_asks_both_settings_with_the_seeds_subtitle_lines(tmp_path: Path) -> None:
    write_vmme(tmp_path, [vmme_row(1), vmme_row(2)])
    (tmp_path / "subtitles").mkdir()
    (tmp_path / "subtitles" / "vid1.srt").write_text("1\n00:00:00,500 --> 00:00:03,000\nThree <i>red</i>\nsocks.\n")
    task = VideoMME(tmp_path)
    with_srt, without = task.load()
    assert with_srt.meta["subtitle_file"] == "subtitles/vid1.srt" and without.meta["subtitle_file"] is None
    assert without.error is None  # a missing .srt is "no subtitles", not an error
    # the seed's get_seq_frames over 100 frames, not the sampled indices: frames 6, 18, ..., 93 at 25 fps
    assert seq_frames(100, 8) == [6, 18, 31, 43, 56, 68, 80, 93]
    lines = "\n".join(["Three {\\i1}red{\\i0} socks."] * 5)  # 720..2720 ms lie inside 500..3000 ms; pysubs2's tags
    head = "This video's subtitles are listed below:\n"
    assert task.extra_prompts(with_srt, frames_of(100, 25.0)) == [head + lines + "\n" + task.prompt(with_srt)]
    assert task.extra_prompts(without, frames_of(100, 25.0)) == [head + "\n" + task.prompt(without)]
    off = VideoMME(tmp_path, options={"subtitles": "off"})
    assert off.extra_prompts(with_srt, frames_of(100, 25.0)) == [] and "not run" in off.deviations()[0]
    assert task.deviations() == []
    with pytest.raises(ConfigError, match="subtitles"):
        VideoMME(tmp_path, options={"subtitles": "yes please"})


def test_videomme_scores_each_setting_and_reports_both(tmp_path: Path) -> None:
    write_vmme(tmp_path, [vmme_row(1), vmme_row(2, answer="B"), vmme_row(3)])
    task = VideoMME(tmp_path)
    records = []
    for s, (first, second) in zip(task.load(), [("D", "D"), ("C", "B"), ("I cannot tell", "D")]):
        records.append({"id": s.id, "task": "videomme", "subset": s.subset, "question": s.question,
                        "options": s.options, "target": s.answer, "meta": s.meta, "prediction": first,
                        "extra_predictions": [second], "error": None})
    score_records(task, records)
    assert [(r["state"], r["correct"]) for r in records] == [("scored", True), ("scored", False), ("unparsed", False)]
    assert [r["with_subtitles"]["parsed"] for r in records] == ["D", "B", "D"]
    m = task.aggregate(records)
    assert m["accuracy"] == round(1 / 3, 6) and m["with_subtitles"]["accuracy"] == 1.0
    assert m["with_subtitles"]["by_duration"]["short"]["n"] == 3


# -- aggregates and submissions -------------------------------------------------------------------------
def rec(subset: str | None, state: str, correct: bool | None, target: str = "A", **meta: Any) -> dict[str, Any]:
    return {"id": "x", "subset": subset, "state": state, "correct": correct, "target": target, "meta": meta}


def test_mvbench_aggregate_by_hand() -> None:
    records = ([rec("a", "scored", True)] * 3 + [rec("a", "scored", False)]
               + [rec("b", "scored", True), rec("b", "unparsed", False, target="C"), rec("b", "error", None)])
    out = MVBench(Path(".")).aggregate(records)
    assert out["accuracy"] == round(4 / 7, 6)
    assert out["accuracy_seed_compatible"] == round(5 / 7, 6)  # the unparsed one's target is C
    assert out["by_task"]["a"]["accuracy"] == 0.75 and out["by_task"]["b"]["accuracy"] == round(1 / 3, 6)
    assert out["by_task"]["b"]["n"] == 3
    assert out["task_mean_accuracy"] == round((0.75 + round(1 / 3, 6)) / 2, 6)
    lo, hi = out["accuracy_ci"]
    assert lo <= out["accuracy"] <= hi


def test_videomme_aggregate_by_hand() -> None:
    records = [rec("short", "scored", True, duration="short", domain="K", sub_category="H", task_type="T1"),
               rec("short", "scored", False, duration="short", domain="K", sub_category="H", task_type="T2"),
               rec("long", "unparsed", False, duration="long", domain="F", sub_category="M", task_type="T1"),
               rec("long", "scored", True, duration="long", domain="F", sub_category="M", task_type="T1")]
    out = VideoMME(Path(".")).aggregate(records)
    assert out["accuracy"] == 0.5 and out["official_accuracy"] == round(2 / 3, 6)
    assert out["by_duration"]["short"]["accuracy"] == 0.5 and out["by_duration"]["long"]["accuracy"] == 0.5
    assert out["by_task_type"]["T1"]["accuracy"] == round(2 / 3, 6) and out["by_task_type"]["T2"]["accuracy"] == 0
    assert set(out["by_domain"]) == {"K", "F"} and set(out["by_sub_category"]) == {"H", "M"}
    # records without a with-subtitles answer (scored before both settings ran) count as they are
    assert out["with_subtitles"]["accuracy"] == 0.5
    assert "with_subtitles" not in VideoMME(Path("."), options={"subtitles": "off"}).aggregate(records)


def test_perception_test_and_egoschema_aggregate_by_hand() -> None:
    records = [rec("physics", "scored", True, area="physics", reasoning="descriptive"),
               rec("physics", "scored", False, area="physics", reasoning="predictive"),
               rec("memory", "scored", True, area="memory", reasoning="descriptive")]
    out = PerceptionTest(Path(".")).aggregate(records)
    assert out["accuracy"] == round(2 / 3, 6) and out["by_area"]["physics"]["accuracy"] == 0.5
    assert out["by_reasoning"]["descriptive"] == {**out["by_reasoning"]["descriptive"], "accuracy": 1.0, "n": 2}
    ego = EgoSchema(Path(".")).aggregate([rec(None, "scored", True), rec(None, "unparsed", False, target="C")])
    assert ego["accuracy"] == 0.5 and ego["accuracy_seed_compatible"] == 1.0 and SEED_FALLBACK_LETTER == "C"


def test_egoschema_full_submission(tmp_path: Path) -> None:
    task = EgoSchema(Path("."), "full")
    assert task.server_scored and "kaggle" in task.submission_help.lower()
    records = [{"id": "u1", "parsed": "E", "state": "submitted"}, {"id": "u2", "parsed": None, "state": "submitted"},
               {"id": "u3", "state": "error"}]
    path = task.write_submission(records, tmp_path / "sub")
    with path.open() as f:
        assert list(csv.reader(f)) == [["q_uid", "answer"], ["u1", "4"], ["u2", "2"], ["u3", "2"]]
    assert json.loads((path.parent / "egoschema_full_submission.json").read_text()) == {"u1": 4, "u2": 2, "u3": 2}


def test_perception_test_submission(tmp_path: Path) -> None:
    task = PerceptionTest(Path("."), "test")
    opts = ["x", "y", "z"]
    records = [{"id": "video_1_0", "parsed": "B", "options": opts, "meta": {"video_id": "video_1", "question_id": 0}},
               {"id": "video_1_4", "parsed": None, "options": opts, "meta": {"video_id": "video_1", "question_id": 4}},
               {"id": "video_2_1", "parsed": "A", "options": opts, "meta": {"video_id": "video_2", "question_id": 1}}]
    out = json.loads(task.write_submission(records, tmp_path).read_text())
    assert out == {"video_1": [{"id": 0, "answer_id": 1, "answer": "y"}, {"id": 4, "answer_id": 2, "answer": "z"}],
                   "video_2": [{"id": 1, "answer_id": 0, "answer": "x"}]}


# -- demos: built in the official layout, read back by the same loaders ----------------------------------
@pytest.mark.parametrize("task", [MVBench, VideoMME, EgoSchema, PerceptionTest])
def test_build_demo_then_load(task: type, tmp_path: Path) -> None:
    task.build_demo(tmp_path / "a")
    samples = task(tmp_path / "a").load()
    assert 40 <= len(samples) <= 60 and not [s for s in samples if s.error]
    assert all(Path(s.media.path).exists() for s in samples)
    for n in {len(s.options) for s in samples}:  # balanced among the questions with n options
        letters = Counter(s.answer for s in samples if len(s.options) == n)
        assert set(letters) == set("ABCDE"[:n]) and max(letters.values()) - min(letters.values()) <= 1, letters
    assert all(len(set(s.options)) == len(s.options) for s in samples), "options must be distinct"
    task.build_demo(tmp_path / "b")  # deterministic: the same annotations again
    assert [(s.id, s.question, s.options, s.answer) for s in task(tmp_path / "b").load()] == \
        [(s.id, s.question, s.options, s.answer) for s in samples]


def test_mvbench_demo_covers_media_kinds_and_bounds(tmp_path: Path) -> None:
    MVBench.build_demo(tmp_path)
    samples = MVBench(tmp_path).load()
    kinds = {s.subset: s.media.kind for s in samples}
    assert kinds["fine_grained_action"] == "gif" and kinds["episodic_reasoning"] == "frames"
    assert len(kinds) >= 6
    er = [s for s in samples if s.subset == "episodic_reasoning"]
    assert all(s.media.fps == 3.0 and s.media.end is not None for s in er)
    assert min(p.name for p in Path(er[0].media.path).iterdir()) == "00001.jpg"
    assert all(s.media.start is not None for s in samples if s.subset == "action_sequence")


def test_videomme_demo_subtitles_name_the_colour(tmp_path: Path) -> None:
    from harness.types import FramePolicy
    from harness.video import read_frames

    VideoMME.build_demo(tmp_path)
    task = VideoMME(tmp_path)
    samples = task.load()
    with_srt = [s for s in samples if s.meta["subtitle_file"]]
    assert 0 < len(with_srt) < len(samples)
    colour_q = next(s for s in with_srt if s.meta["task_type"] == "Attribute Perception")
    truth = colour_q.options["ABCD".index(colour_q.answer)]
    frames = read_frames(colour_q.media, FramePolicy("uniform", 8))
    (with_subs,) = task.extra_prompts(colour_q, frames)
    assert truth in with_subs.split("Select the best answer")[0]


def test_demo_questions_are_true_of_their_scene() -> None:
    from harness import synth
    from harness.tasks import _demo

    rng = random.Random(0)
    for i in range(200):
        kind = ["color", "change", "count", "direction", "shape", "appear", "clip_before", "clip_after"][i % 8]
        spec = _demo.scene(kind, rng, seed=i)
        n = 3 if kind == "appear" else 5
        it = _demo.item(kind, spec, n, i % n, rng)
        truth = {"color": spec.color, "clip_before": spec.color, "change": spec.change_to,
                 "clip_after": spec.change_to, "count": str(spec.count), "direction": spec.direction,
                 "shape": spec.shape, "appear": "no" if spec.appear else "yes"}[kind]
        assert it.options[it.answer] == truth and it.answer == i % n and len(set(it.options)) == n
        assert (spec.change_to is not None) == (kind in ("change", "clip_before", "clip_after"))
        assert spec.change_to != spec.color and spec.color in synth.COLORS
        if it.clip:  # clip edges keep clear of the colour change halfway through
            assert it.clip[1] < _demo.SECONDS / 2 or it.clip[0] > _demo.SECONDS / 2

