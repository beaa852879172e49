"""The `hf` adapter over tiny random-weight VideoLLaMA3, Qwen2.5-VL and LLaVA-OneVision checkpoints
(tests/hf_tiny.py): runs on the demo sets through `harness run`, batch 1 == batch 4, resume without a
model load, fingerprints, text-only requests, and clear refusals of what it cannot evaluate.

Unmarked tests give the frames as images (frames_as=images: the image processors work without
torchvision). Tests marked `torchvision` exercise the model's own video path: they need a torchvision
that loads with the installed torch; scripts/test_hf_video.sh runs them in .venv-cuda.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from harness.cli import main
from harness.errors import ConfigError, ModelLoadError
from harness.models.adapters import hf as hf_module
from harness.records import read_records
from harness.types import FramePolicy, Frames, MediaRef, Request
from tests import hf_tiny

HF = hf_module.HFAdapter
VIDEOLLAMA2_TINY = Path(__file__).resolve().parents[1] / "models" / "videollama2" / "tiny_default"


pytestmark = pytest.mark.usefixtures("module_cache")


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> dict[str, Path]:
    """The three tiny checkpoints, built once per session."""
    root = tmp_path_factory.mktemp("hf-tiny")
    return {kind: hf_tiny.build(kind, root / kind) for kind in hf_tiny.KINDS}


def run(out: Path, *args: str) -> int:
    return main(["run", "--output-dir", str(out), "--no-progress", *args])


def hf_run(out: Path, path: Path, model_args: str = "", tasks: str = "mvbench", limit: int = 6) -> int:
    args = f"path={path}" + (f",{model_args}" if model_args else "")
    return run(out, "--model", "hf", "--model-args", args, "--tasks", tasks, "--limit", str(limit),
               "--gen-kwargs", "max_new_tokens=5")


def predictions(out: Path, task: str = "mvbench") -> list[tuple[str, str | None, str | None]]:
    return [(r["id"], r["prediction"], r["error"]) for r in read_records(out / "samples" / f"{task}.jsonl")]


def frames(t: int = 6, seed: int = 0) -> Frames:
    rng = np.random.default_rng(seed)
    indices = [1 + 2 * i for i in range(t)]
    return Frames(rng.integers(0, 256, (t, 64, 64, 3), dtype=np.uint8), indices, [i / 8 for i in indices], 16, 8.0)


# -- CPU: frames as images ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", hf_tiny.KINDS)
def test_runs_mvbench_and_batch_4_gives_batch_1s_outputs(tiny, tmp_path, kind, capsys):
    one, four = tmp_path / "b1", tmp_path / "b4"
    assert hf_run(one, tiny[kind], "frames_as=images,num_frames=4,batch_size=1") == 0
    assert hf_run(four, tiny[kind], "frames_as=images,num_frames=4,batch_size=4") == 0
    got = predictions(one)
    assert len(got) == 6 and all(p and not e for _, p, e in got), got  # every sample answered, none failed
    assert predictions(four) == got
    res = json.loads((one / "results.json").read_text())
    model = res["model"]
    assert model["fingerprint"].startswith("hf-") and model["info"]["model_type"] == kind
    assert model["info"]["class"] == hf_tiny.CLASSES[kind] and model["info"]["frames_as"] == "images"
    task = res["tasks"]["mvbench"]
    assert task["frames"] == "uniform:4" and any("frames_as=images" in d for d in task["deviations"])
    assert all(len(r["frames"]["indices"]) == 4 for r in read_records(one / "samples" / "mvbench.jsonl"))

    # The same command again: every sample is done, so the weights are not even loaded.
    def no_load(self, **args):
        raise AssertionError("a finished rerun loaded the model")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(HF, "__init__", no_load)
        capsys.readouterr()
        assert hf_run(one, tiny[kind], "frames_as=images,num_frames=4,batch_size=1") == 0
    assert "nothing to compute" in capsys.readouterr().out
    assert predictions(one) == got


def test_an_image_only_model_takes_frames_as_images_and_refuses_video(tmp_path):
    path = hf_tiny.build("llava", tmp_path / "llava")  # LLaVA-1.5's architecture: no video processor
    assert hf_run(tmp_path / "out", path, "frames_as=images,num_frames=3", limit=2) == 0
    got = predictions(tmp_path / "out")
    assert len(got) == 2 and all(p and not e for _, p, e in got), got
    with pytest.raises(ConfigError, match=r"processor \(LlavaProcessor\) takes no video"):
        HF(path=str(path), frames_as="video")


@pytest.fixture(scope="module")
def qwen(tiny) -> HF:
    return HF(path=str(tiny["qwen2_5_vl"]), frames_as="images")


def test_text_only_requests_and_mixed_batches_equal_single_requests(qwen):
    gen = {"do_sample": False, "max_new_tokens": 5}
    reqs = [Request("v1", "what colour is the circle ?", frames(4, 1), "video", gen),
            Request("t1", "how many shapes are there ?", None, "text", gen),
            Request("v2", "which direction is the square moving ?", frames(4, 2), "video", gen),
            Request("t2", "is there a red star ?", None, "text", gen)]
    singles = [qwen.generate([r])[0] for r in reqs]
    assert all(singles) and qwen.generate(reqs) == singles
    prompt = qwen.processor.batch_decode(qwen.inputs(reqs[1:2])["input_ids"])[0]
    # The model's own template around the task's text, unchanged; no visual placeholder for text-only.
    assert "how many shapes are there ?" in prompt and "<|vision_start|>" not in prompt
    assert prompt.startswith("<|im_start|> system You are a helpful assistant .")


def test_the_instruction_text_reaches_the_template_unchanged(qwen):
    text = "Question: what is this?\nOptions:\n(A) red\n(B) blue\nAnswer with the option's letter."
    req = Request("x", text, frames(2), "video", {})
    content = []

    def capture(conversations, **kwargs):
        content.extend(conversations[0][0]["content"])
        raise RuntimeError("captured")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(qwen.processor, "apply_chat_template", capture)
        with pytest.raises(RuntimeError, match="captured"):
            qwen.inputs([req])
    assert content[-1] == {"type": "text", "text": text}
    assert [c["type"] for c in content[:-1]] == ["image", "image"]  # frames_as=images: one part per frame


def test_sampling_is_seeded(qwen):
    gen = {"do_sample": True, "temperature": 1.0, "max_new_tokens": 6, "seed": 3}
    req = Request("s", "what colour is the circle ?", frames(2), "video", gen)
    assert qwen.generate([req]) == qwen.generate([req])


def test_fingerprint_follows_the_weights_the_template_dtype_and_frames(tiny, tmp_path):
    base = HF.describe(path=str(tiny["qwen2_5_vl"]), frames_as="images").fingerprint
    copy = tmp_path / "copy"
    shutil.copytree(tiny["qwen2_5_vl"], copy)
    assert HF.describe(path=str(copy), frames_as="images").fingerprint == base  # the content, not the folder
    assert HF.describe(path=str(copy), frames_as="images", num_frames=4).fingerprint != base
    assert HF.describe(path=str(copy), frames_as="images", dtype="bf16").fingerprint != base
    assert HF.describe(path=str(copy), frames_as="video").fingerprint != base
    (copy / "chat_template.jinja").write_text((copy / "chat_template.jinja").read_text() + " ")
    templated = HF.describe(path=str(copy), frames_as="images").fingerprint
    assert templated != base
    other = hf_tiny.build("qwen2_5_vl", tmp_path / "seed1", seed=1)  # same config, other weights
    assert HF.describe(path=str(other), frames_as="images").fingerprint not in (base, templated)


def test_describe_matches_the_loaded_model(qwen, tiny):
    d = HF.describe(path=str(tiny["qwen2_5_vl"]), frames_as="images")
    assert d.fingerprint == qwen.fingerprint() and d.frame_policy == qwen.frame_policy() is None
    assert d.deviations == qwen.deviations() and d.args == qwen.args
    assert {k: qwen.info()[k] for k in d.info} == d.info
    assert qwen.info()["params"] > 0


def test_model_args_become_a_frame_policy():
    assert hf_module.Settings._policy({"num_frames": "16"}) == FramePolicy("uniform", 16)
    assert hf_module.Settings._policy({"fps": "2", "max_frames": "64"}) == FramePolicy("fps", n=0, fps=2.0,
                                                                                        max_frames=64)
    assert hf_module.Settings._policy({}) is None  # the task's default


@pytest.mark.parametrize("args, message", [
    ({}, "needs path"),
    ({"dtype": "fp8"}, "dtype='fp8'"),
    ({"frames_as": "gif"}, "frames_as='gif'"),
    ({"num_frames": "0"}, "num_frames"),
    ({"num_frames": "8", "fps": "1"}, "num_frames with fps"),
    ({"max_frames": "8"}, "without fps"),
    ({"fps": "-1"}, "fps"),
    ({"attn": "flash"}, "attn='flash'"),
    ({"device": "gpu"}, "device='gpu'"),
    ({"batchsize": "2"}, "unknown hf model args"),
])
def test_bad_model_args_are_refused_before_anything_loads(tiny, args, message):
    if args:
        args = {"path": str(tiny["qwen2_5_vl"]), "frames_as": "images", **args}
    with pytest.raises(ConfigError, match=message):
        HF.check_args(**args)


def _text_only_llm(tmp_path: Path) -> Path:
    d = tmp_path / "qwen2-text"
    d.mkdir()
    (d / "config.json").write_text(json.dumps({"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"]}))
    return d


@pytest.mark.parametrize("folder, message", [
    (lambda tmp: VIDEOLLAMA2_TINY, "model_type 'videollama2_qwen2' is not an image-text-to-text model"),
    (_text_only_llm, "model_type 'qwen2' is not an image-text-to-text model"),
    (lambda tmp: (tmp / "empty").mkdir() or tmp / "empty", "no config.json"),
    (lambda tmp: tmp / "missing", "no such directory"),
])
def test_a_folder_that_is_not_a_supported_model_exits_2_naming_it(tmp_path, capsys, folder, message):
    path = folder(tmp_path)
    assert run(tmp_path / "out", "--model", "hf", "--model-args", f"path={path},frames_as=images",
               "--tasks", "mvbench", "--limit", "2") == 2
    err = capsys.readouterr().err
    assert message in err and str(path) in err and "Traceback" not in err
    assert not (tmp_path / "out" / "results.json").exists()


def _copy(tiny: dict[str, Path], tmp: Path, kind: str = "qwen2_5_vl") -> Path:
    return Path(shutil.copytree(tiny[kind], tmp / f"{kind}-copy"))


def _config_only(tiny, tmp: Path) -> Path:
    d = tmp / "config-only"
    d.mkdir()
    (d / "config.json").write_text(json.dumps({"model_type": "qwen2_5_vl"}))
    return d


def _without(*names: str):
    def make(tiny, tmp: Path) -> Path:
        d = _copy(tiny, tmp)
        for name in names:
            (d / name).unlink()
        return d
    return make


def _missing_shard(tiny, tmp: Path) -> Path:
    d = _copy(tiny, tmp)
    (d / "model.safetensors").rename(d / "model-00001-of-00002.safetensors")
    weight_map = {"a.weight": "model-00001-of-00002.safetensors", "b.weight": "model-00002-of-00002.safetensors"}
    (d / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    return d


def _unknown_processor(tiny, tmp: Path) -> Path:
    d = _copy(tiny, tmp)
    (d / "processor_config.json").write_text(json.dumps({"processor_class": "NoSuchProcessor"}))
    return d


@pytest.mark.parametrize("make, message", [
    (_config_only, ("has no weights (*.safetensors or *.bin); no tokenizer (tokenizer.json, tokenizer.model, "
                   "vocab.json, vocab.txt or *.tiktoken); no processor config (preprocessor_config.json or "
                   "processor_config.json)")),
    (_without("model.safetensors"), "has no weights (*.safetensors or *.bin)"),
    (_without("tokenizer.json"), "has no tokenizer (tokenizer.json"),
    (_without("preprocessor_config.json", "processor_config.json"), "has no processor config"),
    (_missing_shard, "has no weight shards model.safetensors.index.json names (model-00002-of-00002.safetensors)"),
    (lambda tiny, tmp: _copy(tiny, tmp).joinpath("generation_config.json").write_text("{not json") and tmp /
     "qwen2_5_vl-copy", "cannot load the generation config (OSError: "),
    (_unknown_processor, ("processor_config.json names processor_class 'NoSuchProcessor', which this transformers "
                         "does not have")),
], ids=["config-only", "no-weights", "no-tokenizer", "no-processor-config", "missing-shard", "corrupt-generation-config",
                                "unknown-processor"])
def test_an_incomplete_checkpoint_exits_2_naming_it_before_anything_runs(tiny, tmp_path, capsys, make, message):
    path = make(tiny, tmp_path)
    out = tmp_path / "out"
    assert run(out, "--model", "hf", "--model-args", f"path={path},frames_as=images", "--tasks", "mvbench",
               "--limit", "2") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: hf path={path}: ") and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 2 and "hint:" in err  # one message and its fix
    assert not out.exists()  # refused by check_args: before the output directory is locked or planned


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / "model.safetensors").write_bytes(b"not a safetensors file" * 64),
     "cannot load the weights (SafetensorError: "),
    (lambda d: (d / "model.safetensors").write_bytes((d / "model.safetensors").read_bytes()[:200_000]),
     "cannot load the weights (SafetensorError: "),
    (lambda d: (d / "tokenizer.json").write_text("{not json"), "cannot load the processor ("),
    (lambda d: (d / "preprocessor_config.json").write_text("{not json"), "cannot load the processor ("),
], ids=["garbage-weights", "truncated-weights", "corrupt-tokenizer", "corrupt-preprocessor-config"])
def test_a_corrupt_checkpoint_exits_2_with_one_message_naming_it(tiny, tmp_path, capsys, damage, message):
    path = _copy(tiny, tmp_path)
    damage(path)
    out = tmp_path / "out"
    assert run(out, "--model", "hf", "--model-args", f"path={path},frames_as=images", "--tasks", "mvbench",
               "--limit", "2") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: hf path={path}: {message}") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 2 and "hint:" in err
    assert not (out / "results.json").exists()


def test_a_processor_class_transformers_lacks_is_a_load_error(tiny, tmp_path):
    path = _unknown_processor(tiny, tmp_path)
    # AutoProcessor falls back to the bare tokenizer; the adapter says why instead of failing later
    with pytest.raises(ModelLoadError, match="AutoProcessor gives a .*'NoSuchProcessor', which this transformers"):
        HF(path=str(path), frames_as="images")
    # and where the processor is built without its video processor (no torchvision)
    with pytest.raises(ModelLoadError, match="names processor_class 'NoSuchProcessor'"):
        hf_module._processor_without_video(path)


# -- decoding: the task's settings, not the checkpoint's generation_config.json --------------------------
def test_the_checkpoints_generation_config_does_not_change_decoding(tiny, tmp_path):
    """Greedy output with a generation_config.json asking for sampling, a repetition penalty and beam
    search equals the same checkpoint's without the file; info() records what was left out."""
    plain = _copy(tiny, tmp_path)
    (plain / "generation_config.json").unlink()
    asking = Path(shutil.copytree(plain, tmp_path / "asking"))
    (asking / "generation_config.json").write_text(
        json.dumps({"do_sample": True, "repetition_penalty": 1.5, "num_beams": 2}))
    gen = {"do_sample": False, "max_new_tokens": 8}
    reqs = [Request("v1", "what colour is the circle ?", frames(2, 1), "video", gen),
            Request("t1", "how many shapes are there ?", None, "text", gen),
            Request("t2", "is there a red star ? what colour is the circle ?", None, "text", gen)]
    a, b = HF(path=str(plain), frames_as="images"), HF(path=str(asking), frames_as="images")
    assert b.generate(reqs) == a.generate(reqs)
    ignored = {"do_sample": True, "num_beams": 2, "repetition_penalty": 1.5}
    assert b.info()["generation_config_ignored"] == ignored and a.info()["generation_config_ignored"] == {}
    described = HF.describe(path=str(asking), frames_as="images").info
    assert described["generation_config_ignored"] == ignored == {k: b.info()[k] for k in described}[
        "generation_config_ignored"]
    # the special token ids still apply: the model config's, as the file gives none
    assert b.model.generation_config.eos_token_id == a.model.generation_config.eos_token_id is not None


def test_sampling_without_settings_is_plain_sampling_not_the_checkpoints(tiny, tmp_path):
    """Qwen2.5-VL's generation_config.json: with do_sample=true and nothing else, its temperature 0.1,
    top_p 0.001 and top_k 1 would make sampling greedy in effect."""
    path = _copy(tiny, tmp_path)
    qwen_like = {"do_sample": True, "temperature": 0.1, "top_p": 0.001, "top_k": 1, "repetition_penalty": 1.05,
                 "eos_token_id": 3, "pad_token_id": 1}
    (path / "generation_config.json").write_text(json.dumps(qwen_like))
    adapter = HF(path=str(path), frames_as="images")
    assert adapter.info()["generation_config_ignored"] == {"do_sample": True, "repetition_penalty": 1.05,
                                                           "temperature": 0.1, "top_k": 1, "top_p": 0.001}
    seen = {}

    def capture(**kwargs):
        config, _ = adapter.model._prepare_generation_config(None, **kwargs)
        seen.update(temperature=config.temperature, top_p=config.top_p, top_k=config.top_k,
                    repetition_penalty=config.repetition_penalty, eos=config.eos_token_id, pad=config.pad_token_id)
        raise RuntimeError("captured")

    req = Request("s", "what colour is the circle ?", None, "text", {"do_sample": True, "max_new_tokens": 3})
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(adapter.model, "generate", lambda **kw: capture(**{k: v for k, v in kw.items() if k not in (
            "input_ids", "attention_mask")}))
        with pytest.raises(RuntimeError, match="captured"):
            adapter.generate([req])
    assert seen == {"temperature": 1.0, "top_p": 1.0, "top_k": 0, "repetition_penalty": 1.0, "eos": 3, "pad": 1}


# -- padding --------------------------------------------------------------------------------------------
def test_batches_are_left_padded_even_where_the_processor_defaults_say_right(qwen):
    reqs = [Request("t1", "hello", None, "text", {}),
            Request("t2", "how many shapes are there ? is there a red star ?", None, "text", {})]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(qwen.processor, "text_kwargs", {"padding_side": "right"}, raising=False)  # a processor default
        mask = qwen.inputs(reqs)["attention_mask"]
    assert mask[:, -1].tolist() == [1, 1] and mask[0, 0].item() == 0  # every row ends at its last token


def test_a_tokenizer_without_a_pad_token_pads_with_eos_and_batch_4_equals_batch_1(tmp_path):
    path = hf_tiny.build("qwen2_5_vl", tmp_path / "no-pad", pad=False)
    assert json.loads((path / "config.json").read_text())["text_config"].get("pad_token_id") is None
    adapter = HF(path=str(path), frames_as="images")
    tok = adapter.processor.tokenizer
    assert tok.pad_token == tok.eos_token == "<|im_end|>"
    gen = {"do_sample": False, "max_new_tokens": 5}
    reqs = [Request("v1", "what colour is the circle ?", frames(3, 1), "video", gen),
            Request("t1", "hello", None, "text", gen),
            Request("v2", "which direction is the square moving ?", frames(2, 2), "video", gen),
            Request("t2", "how many shapes are there ? is there a red star ?", None, "text", gen)]
    assert (adapter.inputs(reqs)["attention_mask"] == 0).any()  # the batch is padded
    singles = [adapter.generate([r])[0] for r in reqs]
    assert all(singles) and adapter.generate(reqs) == singles


@pytest.mark.skipif(hf_module.torchvision_usable(), reason="torchvision is usable here: the video path works")
def test_frames_as_video_is_refused_clearly_without_torchvision(tiny, tmp_path, capsys):
    assert hf_run(tmp_path / "out", tiny["video_llama_3"]) == 2  # frames_as=video is the default
    err = capsys.readouterr().err
    assert err.startswith("error: hf frames_as=video (the default): transformers' video processors need "
                          f"torchvision; {hf_module.torchvision_problem()}\n  hint: ")
    assert "frames_as=images" in err and len(err.strip().splitlines()) == 2
    with pytest.raises(ConfigError, match=r"frames_as=video \(the default\).*torchvision"):  # loading: the same
        HF(path=str(tiny["video_llama_3"]))


def test_list_models_shows_hf_and_its_args(capsys):
    assert main(["list", "models"]) == 0
    out = capsys.readouterr().out
    assert "\nhf " in out and "    frames_as " in out and "    path " in out
    assert "weights, tokenizer, processor config and chat template" in out and "needs torchvision" in out


def test_video_metadata_gives_the_harness_timestamps_and_sampling_rate():
    from transformers.video_utils import VideoMetadata

    from harness.video.sampling import sample_indices

    for policy, start, end, rate in [(FramePolicy("fps", n=0, fps=2.0), None, None, 2.0),
                                     (FramePolicy("fps", n=0, fps=1.0), 10.0, 40.0, 1.0),
                                     (FramePolicy("uniform", 32), None, None, 32 / 120)]:
        idx = sample_indices(policy, 3600, 30.0, start, end)  # a 2-minute video at 30 fps
        f = Frames(np.zeros((len(idx), 4, 4, 3), np.uint8), idx, [i / 30.0 for i in idx], 3600, 30.0)
        meta = VideoMetadata(**hf_module.video_metadata(f))
        assert meta.timestamps == pytest.approx(f.timestamps)
        assert meta.sampled_fps == pytest.approx(rate, rel=0.05)
        assert meta.duration == 120.0


# -- the model's video path (needs torchvision; scripts/test_hf_video.sh) --------------------------------
@pytest.mark.torchvision
@pytest.mark.parametrize("kind", hf_tiny.KINDS)
def test_video_path_runs_mvbench_and_batch_4_gives_batch_1s_outputs(tiny, tmp_path, kind):
    one, four = tmp_path / "b1", tmp_path / "b4"
    assert hf_run(one, tiny[kind], "num_frames=6,batch_size=1") == 0
    assert hf_run(four, tiny[kind], "num_frames=6,batch_size=4") == 0
    got = predictions(one)
    assert len(got) == 6 and all(p and not e for _, p, e in got), got
    assert predictions(four) == got
    res = json.loads((one / "results.json").read_text())
    assert res["model"]["info"]["frames_as"] == "video"
    assert not any("frames_as" in d for d in res["tasks"]["mvbench"]["deviations"])


@pytest.mark.torchvision
@pytest.mark.parametrize("kind", hf_tiny.KINDS)
def test_the_video_processor_gets_exactly_the_harness_frames(tiny, kind):
    """The frames the harness read (uniform:6 from a 16-frame demo clip) reach the model as one video
    of 6 frames: not re-sampled (the processor's own defaults would take other counts), pixels equal
    to the video processor's on those frames, timestamps the harness's."""
    from harness.demo import demo_root
    from harness.registry import get_task_class
    from harness.video.reader import read_frames

    root = demo_root(get_task_class("mvbench"))
    clip = min(root.rglob("*.mp4"))
    f = read_frames(MediaRef(str(clip)), FramePolicy("uniform", 6))
    assert (f.video_frames, f.fps, len(f.indices)) == (16, 8.0, 6)
    adapter = HF(path=str(tiny[kind]))
    inputs = adapter.inputs([Request("x", "what colour is the circle ?", f, "video", {})])
    proc = adapter.processor
    direct = proc.video_processor([f.array], do_sample_frames=False, return_tensors="pt")
    assert np.array_equal(inputs["pixel_values_videos"].numpy(), direct["pixel_values_videos"].numpy())
    ids = inputs["input_ids"][0].tolist()
    n_video_tokens = ids.count(proc.video_token_id)
    if kind == "qwen2_5_vl":
        t, h, w = inputs["video_grid_thw"][0].tolist()
        assert t * proc.video_processor.temporal_patch_size == 6
        assert n_video_tokens == t * h * w // proc.video_processor.merge_size ** 2
        # temporal positions as qwen-vl-utils sets them: 6 frames taken of 16 at 8 fps are 3 a second,
        # so each grid step (2 frames) is 2/3 s
        assert inputs["second_per_grid_ts"][0].item() == pytest.approx(2 / 3)
    elif kind == "video_llama_3":
        prompt = proc.batch_decode(inputs["input_ids"])[0]
        shown = [p.split(":")[0].replace(" ", "") for p in prompt.split("Time ")[1:]]
        assert shown == [f"{t:.1f}s" for t in f.timestamps]  # "Time 0.6s:" before each of the 6 frames
    else:  # LLaVA-OneVision: every frame pooled to the same tokens, plus one newline token
        assert inputs["pixel_values_videos"].shape[1] == 6
        assert (n_video_tokens - 1) % 6 == 0
