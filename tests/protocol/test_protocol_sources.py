"""Every protocol text file names its official source, and the source it names is the one the golden
data was generated from.

What this proves: each instruction template (tasks/prompts/*.txt), judge template
(tasks/prompts/judge/*.txt) and the system turn (models/videollama2/prompts/*.txt) starts with
`# source: DAMO-NLP-SG/VideoLLaMA2 @ c0bb03a, <path> ...`, parses as a protocol text file, and the
official file it names is among the files the matching golden file records in `source.files`
(judge templates: exactly the script whose requests they are compared with). Every task's
`prompt_file` exists.

Golden data: the `source` objects of tests/protocol/golden/*.json (DAMO-NLP-SG/VideoLLaMA2 @
c0bb03a; see golden/README.md).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness import prompts
from harness.tasks.activitynet_qa import ActivityNetQA
from harness.tasks.egoschema import EgoSchema
from harness.tasks.msvd_qa import MSVDQA
from harness.tasks.mvbench import MVBench
from harness.tasks.perception_test import PerceptionTest
from harness.tasks.videochatgpt import VideoChatGPT
from harness.tasks.videomme import VideoMME

from ._golden import OFFICIAL_COMMIT, REPO, golden

SOURCE_LINE = re.compile(rf"# source: DAMO-NLP-SG/VideoLLaMA2 @ {OFFICIAL_COMMIT}, (videollama2/\S+\.py)\b.*")
PROTOCOL_DIRS = (REPO / "tasks" / "prompts", REPO / "tasks" / "prompts" / "judge", REPO / "models" / "videollama2" / "prompts")
FILES = sorted(p for d in PROTOCOL_DIRS for p in d.glob("*.txt"))

# template file -> the golden file whose source.files must include what the template names
GOLDEN_OF = {
    "mvbench.txt": "instructions_mvbench.json",
    "perception_test.txt": "instructions_perception_test.json",
    "egoschema.txt": "instructions_egoschema.json",
    "videomme.txt": "instructions_videomme.json",
    "activitynet_qa.txt": "instructions_open.json",
    "msvd_qa.txt": "instructions_open.json",
    "videochatgpt.txt": "instructions_open.json",
    "system.txt": "chat_prompts.json",
}
JUDGE_SCRIPTS = {
    "activitynet_qa.txt": "videollama2/eval/eval_video_oqa_activitynet.py",
    "vcgpt_1_correctness.txt": "videollama2/eval/eval_video_oqa_vcgpt_1_correctness.py",
    "vcgpt_2_detail.txt": "videollama2/eval/eval_video_oqa_vcgpt_2_detailed_orientation.py",
    "vcgpt_3_context.txt": "videollama2/eval/eval_video_oqa_vcgpt_3_context.py",
    "vcgpt_4_temporal.txt": "videollama2/eval/eval_video_oqa_vcgpt_4_temporal.py",
    "vcgpt_5_consistency.txt": "videollama2/eval/eval_video_oqa_vcgpt_5_consistency.py",
}


def _rel(p: Path) -> str:
    return p.relative_to(REPO).as_posix()


def test_protocol_files_found() -> None:
    names = {_rel(p) for p in FILES}
    assert "models/videollama2/prompts/system.txt" in names
    assert {f"tasks/prompts/judge/{n}" for n in JUDGE_SCRIPTS} <= names
    assert {f"tasks/prompts/{n}" for n in GOLDEN_OF if n != "system.txt"} <= names


@pytest.mark.parametrize("path", FILES, ids=_rel)
def test_first_line_names_the_official_source(path: Path) -> None:
    first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    m = SOURCE_LINE.fullmatch(first)
    assert m, f"{_rel(path)}: first line {first!r} does not name its source as '# source: " \
              f"DAMO-NLP-SG/VideoLLaMA2 @ {OFFICIAL_COMMIT}, videollama2/<file>.py ...'"
    named = set(re.findall(r"videollama2/\S+?\.py|\b\w+\.py", first))
    text = prompts.load(path)  # parses as a protocol text file
    assert text.header["source"].startswith(f"DAMO-NLP-SG/VideoLLaMA2 @ {OFFICIAL_COMMIT}, ")
    if path.parent.name == "judge":
        assert JUDGE_SCRIPTS.get(path.name) == m.group(1), f"{path.name} names {m.group(1)}"
        return
    gold = golden(GOLDEN_OF[path.name])["source"]
    assert gold["commit"] == OFFICIAL_COMMIT
    official = set(gold["files"]) | {Path(f).name for f in gold["files"]}
    assert named & official, f"{_rel(path)} names {sorted(named)}, the golden was generated from {gold['files']}"


@pytest.mark.parametrize("cls", [MVBench, PerceptionTest, EgoSchema, VideoMME, ActivityNetQA, MSVDQA, VideoChatGPT],
                         ids=lambda cls: cls.name)
def test_every_task_prompt_file_is_a_protocol_file(cls: type) -> None:
    path = REPO / "tasks" / "prompts" / cls.prompt_file
    assert path in FILES
