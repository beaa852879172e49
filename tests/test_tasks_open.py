"""Open-ended tasks: real annotation files through the loaders, the official exact-match numbers,
bad records, aggregates hand-computed on real-format predictions judged by the local server,
garbage predictions, demos, and oracle/constant runs through the CLI."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from harness.cli import main
from harness.errors import DataError
from harness.inference import base_record
from harness.judge import TEMPLATE_DIR, Judge, JudgeConfig, load_template, parse_verdict
from harness.records import read_records
from harness.scoring import score_records
from harness.synth import RGB
from harness.tasks._judged import scenes
from harness.tasks.activitynet_qa import DEMO_SEED as ANET_SEED
from harness.tasks.activitynet_qa import ActivityNetQA, by_type, exact_match_accuracy
from harness.tasks.msvd_qa import MSVDQA
from harness.tasks.videochatgpt import VideoChatGPT
from harness.types import FramePolicy, MediaRef
from harness.video import probe, read_frames
from tests.judge_server import JudgeServer, only_openai_key

VCG = "videochatgpt_gen/reconstructed_from_IG-VLM_csv"
POLICY = FramePolicy("uniform", 4)


@pytest.fixture(autouse=True)
def local_judge_env(monkeypatch, tmp_path):
    only_openai_key(monkeypatch, "sk-local-test")
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))


# MSVD-QA is not kept in the repository (no licence found for the MSVD_Zero_Shot_QA release; see
# tests/data/real/SOURCES.md): a stand-in in its official layout, video names in MSVD's
# "<YouTube id>_<start>_<end>" form (ids with "-" and "_"), one-word answers, type 3; and, in the
# JSONL {id, question, answer, pred} that the Video-ChatGPT inference scripts write, output of a
# broken model: mojibake, "\u00e2\u20ac" escapes, runaway punctuation, an unclosed brace.
MSVD = {"x0-Kq_9TbZc_4_17": [("who is slicing a tomato on a board?", "someone"), ("what is a man slicing?", "tomato"),
                             ("who cuts a tomato into pieces?", "man"), ("what does someone cut with a knife?", "tomato")],
        "Zz_9-aaBbCc_130_142": [("how many dogs run on the beach?", "two"), ("what runs along the shore?", "dog"),
                                ("what are two dogs doing?", "run")],
        "Qm3vR8sT1uW_0_9": [("who is playing a guitar?", "woman"), ("what is a woman playing?", "guitar")]}
GARBAGE = ["slic slic the &&  tomat-o-----__ board and \u00c3\u00a9t\u00c3\u00a9 . pieceward  knif--ery ",
           ("--unbefitting  ovo with the  \u00e2\u20ac\u0153blade\u00e2\u20ac without  ---regarding the cuttt .. "
            "gardenless  obtuse Fran\u00e7\u00e0ise - relegated..down toward stayed like-wise or"),
           "namely  Obvi OUSLY {'pred where seed",
           ("--quadrilateral mono leaning beyond Ours  -q. That Framework Velo ZEBRATONIC mostly ----- "
            "kindly -under down-3.1417gra .. ammo  Bray OVERDRIVE Brayy. Although, . that ---aimed at-ward or"),
           "Quax]7  evidently lower um berflat FinanceXYZ9.4: \u00e2stormi hedgero plimsoll DeVa \u00e2"]


def write_msvd(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    qs = [{"video_name": v, "question_id": f"v_{v}_{i}", "question": q} for v, qa in MSVD.items() for i, (q, _) in enumerate(qa)]
    ans = [{"answer": a, "type": 3, "question_id": f"v_{v}_{i}"} for v, qa in MSVD.items() for i, (_, a) in enumerate(qa)]
    (root / "test_q.json").write_text(json.dumps(qs, indent=2))
    (root / "test_a.json").write_text(json.dumps(ans, indent=2))
    preds = [{"id": q["question_id"], "question": q["question"], "answer": a["answer"], "pred": g}
             for q, a, g in zip(qs, ans, GARBAGE)]
    (root / "single_chunk.json").write_text("\n".join(json.dumps(p) for p in preds))
    return root


def local_judge(server: JudgeServer, cache: Path) -> Judge:
    return Judge(JudgeConfig(model="judge-x", base_url=server.url + "/v1", concurrency=16, timeout=2, retries=2,
                             backoff=0.001), cache)


# -- real annotation files ----------------------------------------------------------------------------------
def test_real_activitynet_test_split_loads_and_val_needs_its_own_questions(real_fixtures):
    samples = ActivityNetQA(real_fixtures / "activitynet_qa").load()
    assert len(samples) == 8000 and not [s for s in samples if s.error]
    assert len({s.id for s in samples}) == 8000
    s = samples[0]
    assert (s.id, s.question, s.answer, s.meta["type"]) == ("v_1QIUV7WYKXg_3", "is the athlete wearing trousers", "no", 3)
    assert s.media.path.endswith("activitynet_qa/all_test/v_1QIUV7WYKXg.mp4")  # the expected path, video absent
    with pytest.raises(DataError, match="val_q.json"):  # the fixture has val answers, not val questions
        ActivityNetQA(real_fixtures / "activitynet_qa", split="val").load()


def test_official_exact_match_on_the_real_val_predictions(real_fixtures):
    """pred_val_example.json against val_a.json, both cut to every 4th record (tests/data/real/SOURCES.md):
    1743/4500 overall and the per-type counts that the official evaluation/eval.py's rule gives on
    that subset (counted independently; on the full 18,000 it is 7172 = 0.39844)."""
    answers = json.loads((real_fixtures / "activitynet_qa" / "val_a.json").read_text())
    preds = {p["question_id"]: p["answer"]
             for p in json.loads((real_fixtures / "activitynet_qa" / "pred_val_example.json").read_text())}
    records = [{"prediction": preds[a["question_id"]], "target": a["answer"], "meta": {"type": a["type"]}} for a in answers]
    acc = exact_match_accuracy(records)["accuracy_exact"]
    assert len(records) == 4500 and acc == round(1743 / 4500, 6)
    counts = {"motion": (82, 442), "spatial": (93, 461), "temporal": (16, 453), "yes_no": (751, 1013),
              "color": (128, 392), "object": (51, 221), "location": (38, 119), "number": (242, 370),
              "other": (342, 1029), "free": (1552, 3144)}
    got = by_type(records)
    assert {k: (round(v["accuracy_exact"] * v["n"]), v["n"]) for k, v in got.items()} == counts


def test_msvd_layout_and_real_vcgbench_files_load(real_fixtures, tmp_path):
    msvd = MSVDQA(write_msvd(tmp_path / "msvd_qa")).load()
    assert len(msvd) == 9 and not [s for s in msvd if s.error]
    assert (msvd[0].id, msvd[0].answer) == ("v_x0-Kq_9TbZc_4_17_0", "someone")
    assert msvd[0].media.path.endswith("msvd_qa/videos/x0-Kq_9TbZc_4_17.avi")
    assert msvd[4].media.path.endswith("msvd_qa/videos/Zz_9-aaBbCc_130_142.avi")
    task = VideoChatGPT(real_fixtures / VCG)
    vcg = task.load()
    by = {k: [s for s in vcg if s.subset == k] for k in ("generic", "temporal", "consistency")}
    assert [len(v) for v in by.values()] == [499, 499, 499] and not [s for s in vcg if s.error]
    assert [by[k][3].id for k in by] == ["generic_qa/3", "temporal_qa/3", "consistency_qa/3"]
    c = by["consistency"][0]
    assert c.question.startswith("What equipment is visible") and c.media.path.endswith("Test_Videos/v_p1QGn0IzfW0.mp4")
    assert task.prompt(c).startswith(c.question)
    assert task.extra_prompts(c) == [task.prompt(c).replace(c.question, c.meta["question2"])]
    assert task.extra_prompts(by["generic"][0]) == []
    assert [len(VideoChatGPT(real_fixtures / VCG, split=k).load()) for k in by] == [499, 499, 499]


# -- bad input ------------------------------------------------------------------------------------------------
def test_bad_qa_records_become_errors_naming_file_and_record(tmp_path):
    root = tmp_path / "msvd_qa"
    root.mkdir()
    qs = [{"video_name": "a", "question_id": "q1", "question": "who?"},
          {"video_name": "b", "question_id": "q2"},  # no question
          {"video_name": "c", "question_id": "q3", "question": "what?"},  # no answer record
          {"video_name": "../../etc/x", "question_id": "q4", "question": "where?"},
          {"video_name": "a", "question_id": "q1", "question": "again?"},
          "not a record"]
    ans = [{"answer": "man", "type": 3, "question_id": q} for q in ("q1", "q2", "q4")]
    (root / "test_q.json").write_text(json.dumps(qs))
    (root / "test_a.json").write_text(json.dumps(ans))
    samples = MSVDQA(root).load()
    errors = {s.id: s.error for s in samples if s.error}
    assert len(samples) == 6 and len(errors) == 5 and samples[0].error is None
    text = " ".join(errors.values())
    assert "'question'" in text and "no answer with question_id 'q3'" in text and "escapes the data root" in text
    assert "duplicate sample id 'q1'" in text and "record is a str" in text and "test_q.json" in text
    (root / "test_a.json").write_text(json.dumps({"q1": "man"}))
    with pytest.raises(DataError, match="expected a JSON list.*test_a.json"):
        MSVDQA(root).load()
    (root / "test_a.json").unlink()
    with pytest.raises(DataError, match="test_a.json"):
        MSVDQA(root).load()


def test_bad_vcgbench_records_and_files(tmp_path):
    rows = [{"Q1": "a?", "Q2": "b?", "A": "c", "video_name": "v1"}, {"Q1": "a?", "A": "c", "video_name": "v2"},
            {"Q1": "a?", "Q2": "b?", "A": "c", "video_name": "../../v3"}, ["Q1"]]
    (tmp_path / "consistency_qa.json").write_text(json.dumps(rows))
    samples = VideoChatGPT(tmp_path, split="consistency").load()
    assert [s.id for s in samples] == [f"consistency_qa/{i}" for i in range(4)]
    assert [bool(s.error) for s in samples] == [False, True, True, True]
    assert "'Q2'" in samples[1].error and "escapes" in samples[2].error and "consistency_qa.json" in samples[3].error
    with pytest.raises(DataError, match="generic_qa.json"):  # split "all" needs all three files
        VideoChatGPT(tmp_path).load()


def test_activitynet_videos_are_found_by_probing_the_folder(tmp_path):
    (tmp_path / "all_test").mkdir()
    for name in ("v_a.webm", "b.mkv", "v_c.mp4", "c.mp4"):
        (tmp_path / "all_test" / name).write_bytes(b"x")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.mp4"
    outside.write_bytes(b"x")
    os.symlink(outside, tmp_path / "all_test" / "v_s.mp4")
    names = ["a", "b", "c", "d", "s"]
    (tmp_path / "test_q.json").write_text(json.dumps([{"video_name": n, "question": "q", "question_id": n} for n in names]))
    (tmp_path / "test_a.json").write_text(json.dumps([{"answer": "x", "type": 8, "question_id": n} for n in names]))
    s = {x.id: x for x in ActivityNetQA(tmp_path).load()}
    assert [Path(s[n].media.path).name for n in "abcd"] == ["v_a.webm", "b.mkv", "v_c.mp4", "v_d.mp4"]
    assert s["d"].error is None and s["s"].error and "escapes the data root" in s["s"].error  # a symlink out


# -- judged scores, hand-computed -----------------------------------------------------------------------------
ANET_PLAN = [  # (answer type, reference wanted, prediction, judge reply); records from the real test split
    (3, "no", "no", "{'pred': 'yes', 'score': 5}"),
    (3, "yes", "Yes.", "{'pred': 'yes', 'score': 4}"),
    (4, None, "it is {ref}", "Sure: {'pred': 'yes', 'score': 4}"),
    (7, None, "many", "{'pred': 'no', 'score': 1}"),
    (0, None, "{ref}", "{'pred': 'yes', 'score': 5}"),
    (8, None, "I cannot tell", "I am not able to grade this."),  # never parses -> unscored
    (3, "no", "yes", "{'pred': 'no', 'score': 0}"),
    (5, None, None, None),  # the sample's video was unreadable -> state error, no judge call
]


# Which VCGBench quality a judge request is about, by the official system message's wording.
QUALITIES = {"factual accuracy": "correctness", "detail orientation": "detail", "contextual understanding": "contextual",
             "temporal understanding": "temporal", "consistency of generative": "consistently"}


def scripted(replies: dict[str, str]):
    def script(system: str, user: str) -> str | None:
        pred = re.search(r"Predicted Answer(?: to Question 1)?: (.*)", user).group(1)
        quality = next((q for k, q in QUALITIES.items() if k in system), "")
        return replies.get(f"{quality}|{pred}") or replies.get(pred)
    return script


def test_activitynet_numbers_match_a_hand_computed_expectation(real_fixtures, tmp_path):
    task = ActivityNetQA(real_fixtures / "activitynet_qa")
    samples = iter(task.load())
    records, replies = [], {}  # records as the runner writes them
    for t, want, pred, reply in ANET_PLAN:
        s = next(x for x in samples if x.meta["type"] == t and want in (None, x.answer))
        rec = base_record(s, s.id, POLICY)
        if pred is None:
            rec["error"] = "video unreadable"
        else:
            rec["prediction"] = pred.format(ref=s.answer)
            replies[rec["prediction"]] = reply
        records.append(rec)
    with JudgeServer(script=scripted(replies)) as server:
        score_records(task, records, local_judge(server, tmp_path), progress=False)
        asked = server.requests
    assert [r["state"] for r in records] == ["scored"] * 5 + ["unscored", "scored", "error"]
    assert asked == 6 + 3  # 6 judged at once; the unparseable one was asked 3 times (retries=2)
    assert "unparseable answer" in records[5]["judge"]["reason"] and records[0]["judge"]["model"] == "judge-x-served"
    m = task.aggregate(records)
    # yes among scored + error: r0 r1 r2 r4 of {r0 r1 r2 r3 r4 r6 r7}; scores over scored: 5 4 4 1 5 0
    assert (m["accuracy"], m["score"]) == (round(4 / 7, 6), round(19 / 6, 6))
    # official exact match over all 8: r0 ("no" == "no") and r4 (the reference itself); normalised adds "Yes."
    assert (m["accuracy_exact"], m["accuracy_exact_normalised"]) == (0.25, 0.375)
    bt = m["by_type"]
    assert bt["yes_no"] == {"accuracy": round(2 / 3, 6), "score": 3.0, "accuracy_exact": round(1 / 3, 6), "n": 3}
    assert bt["free"] == {"accuracy": 0.5, "score": 2.8, "accuracy_exact": round(1 / 7, 6), "n": 7}
    assert bt["other"] == {"accuracy": None, "score": None, "accuracy_exact": 0.0, "n": 1}
    assert bt["object"] == {"accuracy": 0.0, "score": None, "accuracy_exact": 0.0, "n": 1}
    assert bt["motion"]["accuracy_exact"] == 1.0


def test_videochatgpt_numbers_match_a_hand_computed_expectation(real_fixtures, tmp_path):
    task = VideoChatGPT(real_fixtures / VCG)
    samples = task.load()
    g = [s for s in samples if s.subset == "generic"][:3]
    t = [s for s in samples if s.subset == "temporal"][:1]
    c = [s for s in samples if s.subset == "consistency"][:2]
    preds = ["P0", "P1", "P2", "T0", "C0", "C1"]
    records = []
    for s, p in zip(g + t + c, preds):
        rec = base_record(s, s.id, POLICY)
        rec["prediction"] = p
        records.append(rec)
    records[4]["extra_predictions"] = ["C0 again"]  # as the runner stores the answer to Q2
    # records[5]: the second answer is missing -> unscored without a request
    replies = {"correctness|P0": "{'score': 4}", "detail|P0": "{'score': 3}", "contextual|P0": "{'score': 5}",
               "correctness|P1": "{'score': 2}", "detail|P1": "{'score': 1}", "contextual|P1": "no idea",
               "correctness|P2": "{'score': 5}", "detail|P2": "{'score': 5}", "contextual|P2": "{'score': 4}",
               "temporal|T0": "{'score': 3}", "consistently|C0": "{'score': 4}"}
    with JudgeServer(script=scripted(replies)) as server:
        score_records(task, records, local_judge(server, tmp_path), progress=False)
        asked = [e["prompt"] for e in server.log]
    assert len(asked) == 11 + 2  # 3 x 3 generic + 1 temporal + 1 consistency, "no idea" asked 3 times
    assert [r["state"] for r in records] == ["scored", "unscored", "scored", "scored", "scored", "unscored"]
    assert records[1]["judge"]["correctness"]["data"] == {"score": 2}  # the parsed qualities stay on record
    assert records[5]["judge"]["reason"] == "no answer to the second question"
    m = task.aggregate(records)
    assert {k: m[k] for k in ("correctness", "detail", "context", "temporal", "consistency", "mean_score")} == \
        {"correctness": 4.5, "detail": 4.0, "context": 4.5, "temporal": 3.0, "consistency": 4.0, "mean_score": 4.0}
    assert (m["correctness_n"], m["temporal_n"], m["consistency_n"]) == (2, 1, 1)
    hand = dict(records[5], meta={**records[5]["meta"], "prediction2": "typed by hand"})
    assert task.judge_items(hand)[0].fields["prediction2"] == "typed by hand"


def test_garbage_predictions_from_a_broken_model_are_judged_safely(tmp_path):
    """single_chunk.json: output of a broken model (mojibake, runaway text), as `write_msvd` builds it."""
    root = write_msvd(tmp_path / "msvd_qa")
    lines = (root / "single_chunk.json").read_text().splitlines()
    preds = [json.loads(line) for line in lines]
    task = MSVDQA(root)
    by_id = {s.id: s for s in task.load()}
    records = []
    for p in preds:
        rec = base_record(by_id[p["id"]], p["id"], POLICY)
        rec["prediction"] = p["pred"]
        records.append(rec)
    template = load_template(TEMPLATE_DIR / "activitynet_qa.txt")
    for rec, p in zip(records, preds):
        (item,) = task.judge_items(rec)
        user = template.messages(item.fields)[1]["content"]
        assert p["pred"].strip() in user and f"Correct Answer: {p['answer']}\n" in user
        # the garbage itself, given back as a judge's answer, is unparseable and never raises
        assert parse_verdict(p["pred"], "pred_score")[0] is None
    echo = {p["pred"].strip().splitlines()[0]: f"{p['pred']} => {{'pred': 'no', 'score': 0}} \u00e2\u20ac" for p in preds}
    with JudgeServer(script=scripted(echo)) as server:  # prose (the garbage itself) around the dict
        score_records(task, records, local_judge(server, tmp_path), progress=False)
    assert [r["state"] for r in records] == ["scored"] * 5
    assert task.aggregate(records)["accuracy"] == 0.0 and task.aggregate(records)["score"] == 0.0


# -- demos ----------------------------------------------------------------------------------------------------
def _colour_and_motion(media: MediaRef) -> tuple[str, str]:
    """The shapes' colour (nearest palette entry) and travel direction, read from decoded frames."""
    fr = read_frames(media, FramePolicy("uniform", 8)).array.astype(int)
    fg = np.abs(fr - fr.reshape(-1, 3).min(0)).sum(-1) > 120  # far from the dark background
    mean = fr[fg].mean(0)
    colour = min(RGB, key=lambda k: np.abs(np.array(RGB[k]) - mean).sum())
    start, end = (np.argwhere(f).mean(0) for f in (fg[0], fg[-1]))  # (y, x) centroids
    dy, dx = end - start
    direction = ("down" if dy > 0 else "up") if abs(dy) > abs(dx) else ("right" if dx > 0 else "left")
    return colour, direction


def test_demos_load_in_the_official_layout_with_answers_true_of_the_video(tmp_path):
    sets = {}
    for cls in (ActivityNetQA, MSVDQA, VideoChatGPT):
        root = tmp_path / cls.name
        cls.build_demo(root)
        sets[cls.name] = cls(root).load()
        assert 20 <= len(sets[cls.name]) <= 30 and not [s for s in sets[cls.name] if s.error]
        assert all(Path(s.media.path).is_file() for s in sets[cls.name])
    assert {Path(s.media.path).suffix for s in sets["msvd_qa"]} == {".avi"}
    assert probe(sets["msvd_qa"][0].media).n_frames == 16
    anet = sets["activitynet_qa"]
    assert sorted(s.answer for s in anet if s.meta["type"] == 3) == ["no"] * 3 + ["yes"] * 3
    for spec, group in zip(scenes(ANET_SEED, 6), [anet[i:i + 4] for i in range(0, 24, 4)]):
        colour, direction = _colour_and_motion(group[0].media)
        assert (group[0].answer, group[1].answer, group[2].answer) == (colour, str(spec.count), direction)
    for s in sets["msvd_qa"][::4]:
        assert s.answer == _colour_and_motion(s.media)[0]


def test_missing_annotation_file_is_one_clear_error(tmp_path, capsys):
    (tmp_path / "activitynet_qa").mkdir()
    code = main(["run", "--model", "oracle", "--tasks", "activitynet_qa", "--data-root", str(tmp_path), "--predict-only",
                 "--output-dir", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "test_q.json" in err and "Traceback" not in err


def test_oracle_is_perfect_and_constant_scores_the_yes_share(tmp_path):
    # One endpoint for both runs: the judge cache is per endpoint, and the second run reuses the first's verdicts.
    with JudgeServer() as server:

        def run(model: str, *extra: str) -> tuple[dict, Path]:
            out = tmp_path / model
            code = main(["run", "--model", model, *extra, "--tasks", "activitynet_qa,msvd_qa,videochatgpt",
                         "--output-dir", str(out), "--no-progress", "--judge", f"base_url={server.url}/v1,concurrency=16"])
            assert code == 0
            return json.loads((out / "results.json").read_text())["tasks"], out

        oracle, _ = run("oracle")
        for name in ("activitynet_qa", "msvd_qa"):
            assert oracle[name]["metrics"]["accuracy"] == 1.0 and oracle[name]["metrics"]["score"] == 5.0
            assert oracle[name]["n_unscored"] == 0 and oracle[name]["judge"]["stats"]["requests"] > 0
        assert oracle["activitynet_qa"]["metrics"]["accuracy_exact"] == 1.0
        vcg = oracle["videochatgpt"]
        assert vcg["n_samples"] == 24 and vcg["n_unscored"] == 0
        assert {k: vcg["metrics"][k] for k in ("correctness", "detail", "context", "temporal", "consistency")} == \
            dict.fromkeys(("correctness", "detail", "context", "temporal", "consistency"), 5.0)
        stats = vcg["judge"]["stats"]  # scenes may repeat a reference: identical items are asked once
        assert stats["items"] == 8 * 3 + 8 + 8 and stats["requests"] + stats["deduplicated"] == stats["items"]
        const, out = run("constant", "--model-args", "answer=yes")
        recs = read_records(out / "samples" / "activitynet_qa.jsonl")
        share = sum(r["target"] == "yes" for r in recs) / len(recs)
        assert const["activitynet_qa"]["metrics"]["accuracy"] == pytest.approx(share)
        assert const["activitynet_qa"]["judge"]["stats"]["cache_hits"] > 0  # "yes" to a yes question: judged by the oracle run


def test_activitynet_exact_scoring_needs_no_judge_and_scores_the_strict_rule(tmp_path, monkeypatch, capsys):
    """scoring=exact is the dataset's own metric: no credentials, `accuracy` = exact match, and
    `correct` per record agrees with it (so gates pair on the same notion)."""
    import json

    for var in ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    results = {}
    for model in ("oracle", "constant"):
        out = tmp_path / model
        assert main(["run", "--model", model, "--tasks", "activitynet_qa", "--task-args", "activitynet_qa:scoring=exact",
                     "--output-dir", str(out), "--no-progress"]) == 0
        results[model] = json.loads((out / "results.json").read_text())["tasks"]["activitynet_qa"]
    oracle, const = results["oracle"], results["constant"]
    assert oracle["scoring"] == "exact" and "judge" not in oracle or oracle.get("judge") is None
    assert oracle["deviations"] == ["scored by the dataset's exact match, not the seed's GPT judge (scoring=exact)"]
    assert oracle["metrics"]["accuracy"] == oracle["metrics"]["accuracy_exact"] == 1.0
    assert const["metrics"]["accuracy"] == const["metrics"]["accuracy_exact"] < 0.5
    assert main(["run", "--model", "oracle", "--tasks", "activitynet_qa", "--task-args", "activitynet_qa:scoring=gpt",
                 "--output-dir", str(tmp_path / "bad"), "--no-progress"]) == 2
    assert "scoring='gpt'" in (err := capsys.readouterr().err) and "use one of judge, exact" in err
