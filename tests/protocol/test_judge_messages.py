"""GPT-judge requests: our messages and sampling fields against the official eval scripts.

What this proves, for the 18 cases of golden/judge_messages.json (ActivityNet-QA/MSVD-QA's
`prompt_gpt` and VCGBench's five `annotate` scripts; an ordinary input, one with braces, quotes,
backslashes and a newline, and a non-ASCII one each):
- the judge template each task uses (harness.tasks._judged.QA_JUDGE, harness.tasks.videochatgpt.JUDGE_FILES),
  filled with the case's input, gives the official system and user messages exactly (the official
  `pred` is the model output as is);
- the task's own `judge_items` builds those same fields from a result record;
- under `--judge temperature=0.7,top_p=0.95` (the official setting) the request body
  `Judge._body` builds has the official temperature, top_p and max_tokens, and any other sampling
  field of the official request (frequency_penalty, presence_penalty, stop) is either sent with
  the official value or left out where the official value is the API's documented default.
  The `model` field is not compared: the official scripts send an Azure deployment name.

Golden data: tests/protocol/golden/judge_messages.json, from running the judge scripts of
DAMO-NLP-SG/VideoLLaMA2 @ c0bb03a with a recording client (see golden/README.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.judge import TEMPLATE_DIR, Judge, JudgeConfig, load_template
from harness.tasks._judged import QA_JUDGE
from harness.tasks.activitynet_qa import ActivityNetQA
from harness.tasks.videochatgpt import JUDGE_FILES, VideoChatGPT

from ._golden import assert_same_text, cases, golden

JUDGE = cases("judge_messages.json")
OFFICIAL_SETTING = "temperature=0.7,top_p=0.95"
# OpenAI chat.completions defaults (platform.openai.com/docs/api-reference/chat/create): a field
# left out of the request takes these values.
API_DEFAULTS = {"frequency_penalty": 0, "presence_penalty": 0, "stop": None}

# official script -> (our template file, the VCGBench quality, or None for the QA judge)
SCRIPTS = {
    "eval_video_oqa_activitynet.py": (QA_JUDGE, None),
    "eval_video_oqa_vcgpt_1_correctness.py": (JUDGE_FILES["correctness"], "correctness"),
    "eval_video_oqa_vcgpt_2_detailed_orientation.py": (JUDGE_FILES["detail"], "detail"),
    "eval_video_oqa_vcgpt_3_context.py": (JUDGE_FILES["context"], "context"),
    "eval_video_oqa_vcgpt_4_temporal.py": (JUDGE_FILES["temporal"], "temporal"),
    "eval_video_oqa_vcgpt_5_consistency.py": (JUDGE_FILES["consistency"], "consistency"),
}


def _script(c: dict[str, Any]) -> str:
    return Path(c["script"]).name


def _fields(c: dict[str, Any]) -> dict[str, str]:
    i = c["input"]
    if "question1" in i:
        return {"question": i["question1"], "question2": i["question2"], "answer": i["answer"],
                "prediction": i["pred1"], "prediction2": i["pred2"]}
    return {"question": i["question"], "answer": i["answer"], "prediction": i["pred"]}


IDS = [f"{_script(c).removeprefix('eval_video_oqa_').removesuffix('.py')}-{c['input']['label']}" for c in JUDGE]


def test_every_official_script_is_covered() -> None:
    assert {_script(c) for c in JUDGE} == set(SCRIPTS)
    assert {Path(f).name for f in golden("judge_messages.json")["source"]["files"]} == set(SCRIPTS)


@pytest.mark.parametrize("c", JUDGE, ids=IDS)
def test_judge_messages_match_official(c: dict[str, Any]) -> None:
    template = load_template(TEMPLATE_DIR / SCRIPTS[_script(c)][0])
    got = template.messages(_fields(c))
    want = c["request"]["messages"]
    assert [m["role"] for m in got] == [m["role"] for m in want]
    for k, (w, g) in enumerate(zip(want, got)):
        assert set(g) == {"role", "content"}
        assert_same_text(w["content"], g["content"], f"{c['script']} message {k} ({w['role']})")


@pytest.mark.parametrize("c", JUDGE, ids=IDS)
def test_task_judge_items_send_the_official_fields(c: dict[str, Any]) -> None:
    """From a result record to the judge: the task picks the template and fields the official
    script uses (the ActivityNet script also judges MSVD-QA; MSVD shares the class's code)."""
    file, quality = SCRIPTS[_script(c)]
    f = _fields(c)
    record: dict[str, Any] = {"question": f["question"], "target": f["answer"], "prediction": f["prediction"]}
    if quality is None:
        items = ActivityNetQA(Path("unused")).judge_items(record)
        assert [it.template for it in items] == [file]
        item = items[0]
    else:
        subset = {"temporal": "temporal", "consistency": "consistency"}.get(quality, "generic")
        record["subset"] = subset
        if subset == "consistency":
            record["meta"] = {"question2": f["question2"]}
            record["extra_predictions"] = [f["prediction2"]]
        items = VideoChatGPT(Path("unused")).judge_items(record)
        item = next(it for it in items if it.template == file)
    assert item.fields == f  # the golden inputs have no surrounding whitespace: judge_items' strip() is moot


@pytest.fixture(scope="module")
def official_setting_judges(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Judge]:
    out = {}
    for name, cls in (("activitynet_qa", ActivityNetQA), ("videochatgpt", VideoChatGPT)):
        config = JudgeConfig.resolve(cls.judge_default, OFFICIAL_SETTING)
        out[name] = Judge(config, tmp_path_factory.mktemp(f"judge_{name}"))
    return out


@pytest.mark.parametrize("c", JUDGE, ids=IDS)
def test_request_sampling_fields_match_official(c: dict[str, Any], official_setting_judges: dict[str, Judge]) -> None:
    judge = official_setting_judges["activitynet_qa" if SCRIPTS[_script(c)][1] is None else "videochatgpt"]
    want = c["request"]
    body = judge._body(want["messages"])
    assert body["messages"] == want["messages"]
    differ = []
    for key, official in want.items():
        if key in ("model", "messages"):
            continue
        if key in body:
            if body[key] != official:
                differ.append(f"{key}: official {official!r}, ours {body[key]!r}")
        elif key not in API_DEFAULTS or API_DEFAULTS[key] != official:
            differ.append(f"{key}: official {official!r}, ours not sent")
    extra = sorted(set(body) - set(want))
    assert not differ and not extra, f"request fields differ: {differ}; sent but not official: {extra}"
    for key in ("temperature", "top_p", "max_tokens"):  # the fields that must be sent explicitly
        assert key in body and body[key] == want[key], key
