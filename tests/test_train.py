"""The training entry: official data format, label masking, bad records, each mode's checkpoint
reloading through the loader, the connector's own learning rate, DDP on gloo with train-time eval."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from harness.cli import main as harness_main
from harness.models.videollama2.constants import IGNORE_INDEX
from harness.models.videollama2.conversation import build_prompt, tokenize_with_modal
from harness.models.videollama2.load import load_pretrained, save_checkpoint
from harness.models.videollama2.tiny import build_tiny_model
from harness.models.videollama2.train import main as train_main
from harness.models.videollama2.train_data import (
    ConversationDataset,
    Example,
    TrainDataError,
    encode,
    load_examples,
    shuffled_answers,
)
from harness.tasks._trainset import build_trainset

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def trainset(tmp_path_factory) -> Path:
    return build_trainset(tmp_path_factory.mktemp("trainset"), 24)


@pytest.fixture(scope="module")
def base_ckpt(tmp_path_factory) -> Path:
    model, tok = build_tiny_model(seed=3)
    out = tmp_path_factory.mktemp("base")
    save_checkpoint(model, out, tok)
    return out


def _train(out: Path, data: Path, *extra: str) -> dict:
    args = ["--model_path", "tiny-random", "--data_path", str(data), "--output_dir", str(out), "--use_cpu",
            "--per_device_train_batch_size", "4", "--max_steps", "3", "--learning_rate", "1e-3", "--logging_steps", "1",
            "--save_strategy", "no", "--disable_tqdm", "true", *extra]
    assert train_main(args) == 0
    return json.loads((out / "train_summary.json").read_text())


# -- data -------------------------------------------------------------------------------------------
def _shown_options(prompt: str) -> tuple[str | None, dict[str, str]]:
    """The option lines of a prompt: ("dot" for "A. text" | "paren" for "(A) text" | None, letter -> text)."""
    layout, options = None, {}
    for line in prompt.splitlines():
        if line[1:3] == ". " and line[:1] in "ABCDE":
            layout, options[line[0]] = "dot", line[3:]
        elif line[:1] == "(" and line[2:4] == ") ":
            layout, options[line[1]] = "paren", line[4:]
    return layout, options


def _media_records(path: Path) -> list[dict]:
    """The records with a video or image (the rest are text-only look-up drills)."""
    return [r for r in json.loads(path.read_text()) if r.get("video") or r.get("image")]


def test_trainset_is_official_format_and_shares_no_video_with_the_demos(trainset):
    examples, problems = load_examples(trainset)
    raw = _media_records(trainset)
    assert problems == [] and len(raw) == 24 and len(examples) == 24 + 2  # a tenth more: look-up drills
    assert all(r["conversations"][0]["from"] == "human" and r["conversations"][1]["from"] == "gpt" for r in raw)
    assert any(len(r["conversations"]) > 2 for r in raw)  # multi-turn records are exercised
    from harness.demo import demo_root
    from harness.tasks.mvbench import MVBench

    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()
    demo = {digest(p) for p in demo_root(MVBench).rglob("*.mp4")}
    train = {digest(p) for p in (trainset.parent / "videos").glob("*.mp4")}
    assert demo and train and not demo & train


def test_grounding_stage_asks_the_same_media_open_ended(trainset):
    """Stage 1 of the tiny recipe: every record's media again, each question answered in words (no
    option letters), and it loads like any training file."""
    grounding = trainset.parent / "grounding.json"
    examples, problems = load_examples(grounding)
    assert problems == [] and len(examples) == 24 + 2
    mix, ground = _media_records(trainset), _media_records(grounding)
    assert [r.get("video") or r.get("image") for r in ground] == [r.get("video") or r.get("image") for r in mix]
    questions = [t["value"] for r in ground for t in r["conversations"] if t["from"] == "human"]
    answers = [t["value"] for r in ground for t in r["conversations"] if t["from"] == "gpt"]
    assert not any("(A)" in q or "\nA. " in q for q in questions)
    assert set(answers) <= {"red", "green", "blue", "yellow", "circle", "square", "triangle", "1", "2", "3", "4",
                            "left", "right", "up", "down", "yes", "no"}
    assert sum(len(r["conversations"]) for r in ground) > sum(len(r["conversations"]) for r in mix)


def test_mcq_answers_are_what_each_benchmarks_official_extraction_reads(trainset):
    """MVBench / Perception Test styles answer with the true option's text, which their official
    extraction scores; Video-MME / EgoSchema styles answer "<text> <letter>" and their extraction
    (letters only) reads the true letter. Checked with each benchmark's own parser."""
    from harness.tasks.egoschema import EgoSchema
    from harness.tasks.mvbench import MVBench
    from harness.tasks.videomme import VideoMME
    from harness.types import Sample

    seen = {"mvbench": 0, "videomme": 0, "egoschema": 0}
    for rec in _media_records(trainset):
        conv = rec["conversations"]
        for human, gpt in zip(conv[::2], conv[1::2]):
            q = human["value"]
            layout, shown = _shown_options(q)
            if layout == "dot":
                task, style = VideoMME(Path(".")), "videomme"
            elif layout == "paren":
                style = "egoschema" if "The best answer is:" in q else "mvbench"
                task = EgoSchema(Path(".")) if style == "egoschema" else MVBench(Path("."))
            else:
                continue
            options = list(shown.values())
            parsed = task.parse(Sample(id="", task=task.name, media=None, question="", options=options), gpt["value"])
            if style == "mvbench":
                assert gpt["value"] in options and parsed.rule == "option_text", (q, gpt["value"])
            else:
                text, letter = gpt["value"].rsplit(" ", 1)
                assert options["ABCDE".index(letter)] == text, (q, gpt["value"])
                assert parsed.rule == "letter" and parsed.answer == letter, (q, gpt["value"], parsed)
            seen[style] += 1
    assert all(seen.values()), seen


def test_lookup_drills_pair_each_requested_option_with_its_own_letter(trainset):
    """The tiny base LLM's training data: text-only records whose answer names, in the requested order,
    each option's text followed by that option's letter, in the Video-MME and EgoSchema layouts."""
    drills = []
    for name in ("lookup_options.json", "lookup.json"):
        examples, problems = load_examples(trainset.parent / name)
        assert problems == [] and len(examples) == 48 and {e.modal for e in examples} == {"text"}
        drills += json.loads((trainset.parent / name).read_text())
    layouts, in_prompt = set(), 0
    for rec in drills:
        human, gpt = (t["value"] for t in rec["conversations"])
        layout, options = _shown_options(human)
        layouts.add(layout)
        requested = human.splitlines()[-1].split(": ", 1)[1]
        in_prompt += "The best answer is:" in human
        words = gpt.split(" ")
        pairs, text = [], []
        for w in words:
            if w in options:
                pairs.append((" ".join(text), w))
                text = []
            else:
                text.append(w)
        assert text == [] and len(pairs) == 8, gpt
        assert " ".join(t for t, _ in pairs) == requested
        assert all(options[letter] == t for t, letter in pairs), (human, gpt)
    assert layouts == {"dot", "paren"} and 0 < in_prompt < 48  # only lookup.json has whole prompts


def test_labels_cover_only_the_answers_and_the_prompt_matches_inference():
    _, tok = build_tiny_model()
    ex = Example("x", "video", None, [{"role": "user", "content": "<video>\nWhat colour are the moving shapes?"},
                                      {"role": "assistant", "content": "red"},
                                      {"role": "user", "content": "How many shapes are in the video?"},
                                      {"role": "assistant", "content": "two"}])
    ids, labels = encode(ex, tok, "videollama2_qwen2")
    learned = [int(i) for i, lab in zip(ids, labels) if lab != IGNORE_INDEX]
    assert tok.decode(learned) == "red <|im_end|> two <|im_end|>"
    assert (ids == -201).sum() == 1 and labels[ids == -201].eq(IGNORE_INDEX).all()
    # The first turn's prompt is token for token what generation builds for the same question.
    prompt = tokenize_with_modal(build_prompt(tok, "videollama2_qwen2", "What colour are the moving shapes?"), tok)
    assert torch.equal(ids[: len(prompt)], prompt)


def test_cached_dataset_items_equal_fresh_ones(trainset):
    """--cache_frames keeps each clip and tokenized conversation after the first epoch; later epochs
    must see exactly what a fresh read gives."""
    from harness.models.videollama2.api import processor_for

    model, tok = build_tiny_model()
    examples, _ = load_examples(trainset)
    fresh = ConversationDataset(examples, tok, processor_for(model), model.config.model_type)
    cached = ConversationDataset(examples, tok, processor_for(model), model.config.model_type, cache_frames=True)
    for i in (0, 1, len(examples) - 1):  # the last is a text-only look-up drill (no video)
        first, again, ref = cached[i], cached[i], fresh[i]
        for key in ("input_ids", "labels", "video"):
            if ref[key] is None:
                assert first[key] is None and again[key] is None
            else:
                assert torch.equal(first[key], ref[key]) and torch.equal(again[key], ref[key])
    assert sorted(cached.cache) == [0, 1, len(examples) - 1]  # every item read, the drill's too


@pytest.mark.parametrize("record, problem", [
    ({"id": "a", "video": "v.mp4"}, "has no `conversations` list"),
    ({"id": "b", "video": "v.mp4", "conversations": [{"from": "human", "value": "no placeholder"},
                                                      {"from": "gpt", "value": "x"}]}, "0 <video>"),
    ({"id": "c", "video": "v.mp4", "conversations": [{"from": "human", "value": "<video><video> two"},
                                                      {"from": "gpt", "value": "x"}]}, "2 <video>"),
    ({"id": "d", "video": "missing.mp4", "conversations": [{"from": "human", "value": "<video> q"},
                                                            {"from": "gpt", "value": "x"}]}, "video file not found"),
    ({"id": "e", "conversations": [{"from": "gpt", "value": "x"}]}, "turns must alternate"),
    ({"id": "f", "image": "v.mp4", "conversations": [{"from": "human", "value": "<video> q"},
                                                      {"from": "gpt", "value": "x"}]}, "1 <video> and 0 <image>"),
])
def test_a_bad_record_is_named_and_skippable(tmp_path, record, problem):
    (tmp_path / "v.mp4").write_bytes(b"")  # exists; decoding is not what these records get wrong
    good = {"id": "ok", "video": "v.mp4", "conversations": [{"from": "human", "value": "<video>\nq"},
                                                            {"from": "gpt", "value": "A"}]}
    data = tmp_path / "train.json"
    data.write_text(json.dumps([good, record]))
    with pytest.raises(TrainDataError) as e:
        load_examples(data)
    assert f"record 1 (id {record['id']!r})" in str(e.value) and problem in str(e.value) and str(data) in str(e.value)
    examples, problems = load_examples(data, skip_bad=True)
    assert [x.id for x in examples] == ["ok"] and len(problems) == 1


def test_skip_bad_samples_trains_on_the_rest_and_counts(tmp_path, trainset, capsys):
    raw = json.loads(trainset.read_text())
    raw.append({"id": "broken", "video": "videos/nope.mp4", "conversations": []})
    data = trainset.parent / "with_bad.json"
    data.write_text(json.dumps(raw))
    with pytest.raises(TrainDataError, match=f"record {len(raw) - 1} "):
        _train(tmp_path / "stop", data)
    summary = _train(tmp_path / "skip", data, "--skip_bad_samples")
    assert summary["skipped_records"] == 1 and summary["records"] == len(raw) - 1
    assert "skipped 1 bad training records" in capsys.readouterr().err


def test_shuffled_answers_keep_the_answers_but_move_them():
    exs = [Example(str(i), "text", None, [{"role": "user", "content": "q"}, {"role": "assistant", "content": str(i)}])
           for i in range(20)]
    out = shuffled_answers(exs, seed=0)
    got = [e.messages[1]["content"] for e in out]
    assert sorted(got) == sorted(str(i) for i in range(20)) and got != [str(i) for i in range(20)]


# -- modes and checkpoints ----------------------------------------------------------------------------
def _logits(model, tok) -> torch.Tensor:
    ids = tokenize_with_modal(build_prompt(tok, model.config.model_type, "What colour are the moving shapes?"), tok)
    video = torch.linspace(-1, 1, 8 * 3 * 56 * 56).reshape(8, 3, 56, 56)
    with torch.no_grad():
        batch = model.mm_inputs([ids], [video])
        return model(inputs_embeds=batch["inputs_embeds"], attention_mask=batch["attention_mask"]).logits


def test_full_finetune_saves_a_checkpoint_the_loader_reads(tmp_path, trainset):
    summary = _train(tmp_path / "full", trainset, "--gradient_checkpointing", "--bf16")
    assert summary["checkpoint"] == "full" and summary["steps"] == 3
    assert (tmp_path / "full" / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len((tmp_path / "full" / "loss.csv").read_text().splitlines()) == 4  # header + one row per step
    model = load_pretrained(tmp_path / "full")
    fresh, _ = build_tiny_model(seed=0)
    # The LLM trained; the vision tower did not (frozen as in the official recipe).
    assert not torch.equal(model.lm_head.weight, fresh.lm_head.weight)
    for (k, a), (_, b) in zip(model.model.vision_tower.state_dict().items(), fresh.model.vision_tower.state_dict().items()):
        assert torch.equal(a, b), k


def test_pretrain_mode_trains_only_the_connector_and_saves_it_alone(tmp_path, trainset, base_ckpt):
    out = tmp_path / "pre"
    args = ["--model_path", str(base_ckpt), "--data_path", str(trainset), "--output_dir", str(out), "--use_cpu",
            "--per_device_train_batch_size", "4", "--max_steps", "2", "--learning_rate", "1e-2",
            "--save_strategy", "no", "--disable_tqdm", "true", "--tune_mm_mlp_adapter"]
    assert train_main(args) == 0
    assert sorted(p.name for p in out.glob("*.bin")) == ["mm_projector.bin"]
    saved = torch.load(out / "mm_projector.bin", weights_only=True)
    assert saved and all(k.startswith("model.mm_projector.") for k in saved)
    base = load_pretrained(base_ckpt)
    model = load_pretrained(out, base=base_ckpt)
    for k, v in model.state_dict().items():
        changed = not torch.equal(v, base.state_dict()[k])
        assert changed == (k.startswith("model.mm_projector.") and k in {
            kk for kk in base.state_dict() if kk.startswith("model.mm_projector.") and changed}), k
    assert any(not torch.equal(model.state_dict()[k], base.state_dict()[k]) for k in model.state_dict()
               if k.startswith("model.mm_projector."))


def test_lora_saves_peft_adapter_and_connector_that_merge_to_the_trained_model(tmp_path, trainset, base_ckpt):
    out = tmp_path / "lora"
    args = ["--model_path", str(base_ckpt), "--data_path", str(trainset), "--output_dir", str(out), "--use_cpu",
            "--per_device_train_batch_size", "4", "--max_steps", "3", "--learning_rate", "1e-2", "--lora_enable",
            "--lora_r", "4", "--lora_alpha", "8", "--mm_projector_lr", "1e-3", "--save_strategy", "no",
            "--disable_tqdm", "true"]
    assert train_main(args) == 0
    assert (out / "adapter_model.safetensors").exists() and (out / "adapter_config.json").exists()
    extra = torch.load(out / "non_lora_trainables.bin", weights_only=True)
    assert extra and all(k.startswith("base_model.model.model.mm_projector.") for k in extra)
    merged = load_pretrained(out, base=base_ckpt)
    base = load_pretrained(base_ckpt)
    _, tok = build_tiny_model()
    assert not torch.allclose(_logits(merged, tok), _logits(base, tok))
    # Reference: PEFT's own merge of the saved adapter over the same base, plus the saved connector.
    from peft import PeftModel

    ref = PeftModel.from_pretrained(load_pretrained(base_ckpt), out).merge_and_unload()
    ref.model.mm_projector.load_state_dict({k.split("mm_projector.", 1)[1]: v for k, v in extra.items()})
    assert torch.allclose(_logits(merged, tok), _logits(ref, tok), atol=1e-5)


def test_the_connector_gets_its_own_learning_rate(base_ckpt):
    from harness.models.videollama2.train import ModelArguments, TrainingArguments, VideoTrainer, build

    targs = TrainingArguments(output_dir="/tmp/unused", learning_rate=1e-4, mm_projector_lr=5e-3, use_cpu=True,
                              report_to="none")
    model, _ = build(ModelArguments(model_path=str(base_ckpt)), targs)
    opt = VideoTrainer(model=model, args=targs).create_optimizer()
    proj = {id(p) for p in model.model.mm_projector.parameters()}
    for g in opt.param_groups:
        ids = {id(p) for p in g["params"]}
        assert ids <= proj or not ids & proj
        assert g["lr"] == (5e-3 if ids <= proj else 1e-4)
    trained = {id(p) for g in opt.param_groups for p in g["params"]}
    assert not trained & {id(p) for p in model.model.vision_tower.parameters()}


# -- DDP on gloo with train-time evaluation ---------------------------------------------------------------
@pytest.mark.slow
def test_ddp_two_ranks_trains_and_evaluates_in_the_same_job(tmp_path, trainset):
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    args = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
            "-m", "harness.models.videollama2.train", "--model_path", "tiny-random", "--data_path", str(trainset),
            "--output_dir", str(out), "--use_cpu", "--ddp_backend", "gloo", "--per_device_train_batch_size", "2",
            "--max_steps", "4", "--logging_steps", "1", "--save_strategy", "no", "--disable_tqdm", "true",
            "--eval_every", "2", "--eval_tasks", "mvbench"]
    proc = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["world_size"] == 2 and summary["steps"] == 4
    assert [e["step"] for e in summary["evals"]] == [2, 4]
    # Each eval was sharded over both ranks, and rank 0 merged all 48 demo questions.
    results = json.loads((out / "evals" / "step000002" / "results.json").read_text())
    assert results["world_size"] == 2 and results["tasks"]["mvbench"]["n_samples"] == 48
    load_pretrained(out)  # rank 0 saved a loadable checkpoint


def test_harness_train_cli_forwards_to_the_entry(tmp_path, trainset):
    out = tmp_path / "cli"
    assert harness_main(["train", "--", "--model_path", "tiny-random", "--data_path", str(trainset), "--output_dir",
                         str(out), "--use_cpu", "--max_steps", "1", "--per_device_train_batch_size", "2",
                         "--save_strategy", "no", "--disable_tqdm", "true"]) == 0
    assert (out / "model.safetensors").exists()
