"""Our VideoLLaMA2 re-implementation: official keys and shapes, round trips, connector shapes,
token splicing, batch invariance, prompts, offline vision config, bad checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from harness.errors import ConfigError, ModelLoadError
from harness.models.videollama2.api import generate_batch, model_init, processor_for
from harness.models.videollama2.config import CONFIGS
from harness.models.videollama2.connector import build_projector
from harness.models.videollama2.constants import IGNORE_INDEX, MODAL_INDEX
from harness.models.videollama2.conversation import build_prompt, tokenize_with_modal
from harness.models.videollama2.load import load_pretrained, official_state_dict, save_checkpoint
from harness.models.videollama2.modeling import MODELS
from harness.models.videollama2.tiny import build_tiny_model, build_tokenizer

REF = Path(__file__).resolve().parent / "data" / "reference" / "videollama2-state-dict-shapes"
VISION = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4, image_size=336, patch_size=14)


# The config the reference shapes were read with (tests/data/reference/*/*.json "config"), inline
# so the round-trip tests do not depend on the reference files.
TINY = {"mm_hidden_size": 32, "hidden_size": 64, "num_frames": 8, "mm_vision_select_layer": -2,
        "mm_vision_select_feature": "patch", "image_aspect_ratio": "pad", "num_hidden_layers": 2, "vocab_size": 1000}


def make_config(model_type: str, projector: str, vision: dict = VISION):
    extra = {"num_local_experts": 4, "num_experts_per_tok": 2} if "mixtral" in model_type else {}
    return CONFIGS[model_type](**TINY, mm_projector_type=projector, intermediate_size=128, num_attention_heads=4,
                               num_key_value_heads=2, vision_config=vision, **extra)


def config_from_reference(name: str):
    ref = json.loads((REF / f"{name}.json").read_text())
    c = dict(ref["config"])
    assert {k: c[k] for k in TINY} == TINY
    return ref, make_config(c["model_type"], c["mm_projector_type"])


@pytest.mark.parametrize("name", ["qwen2-stc", "mistral-stc", "mixtral-stc", "mistral-mlp2x", "mistral-stp", "mistral-stcv35"])
def test_keys_and_shapes_match_the_official_classes(name):
    ref, cfg = config_from_reference(name)
    model = MODELS[cfg.model_type](cfg)
    ours = {k: list(v.shape) for k, v in official_state_dict(model).items()}
    assert ours == ref["state_dict_shapes"]


@pytest.mark.parametrize("model_type, projector", [("videollama2_qwen2", "stc_connector"),
                                                   ("videollama2_mistral", "stp_connector"),
                                                   ("videollama2_mixtral", "stc_connector_v35"),
                                                   ("videollama2_qwen2", "mlp2x_gelu")])
def test_save_reload_round_trip_has_no_missing_keys_and_same_outputs(tmp_path, model_type, projector):
    cfg = make_config(model_type, projector, {**VISION, "image_size": 56})
    torch.manual_seed(0)
    model = MODELS[model_type](cfg).eval()
    save_checkpoint(model, tmp_path, shard_bytes=200_000)  # force several shards + an index
    assert (tmp_path / "model.safetensors.index.json").exists()
    again = load_pretrained(tmp_path)  # raises on any missing/unexpected key or shape mismatch
    ids = [torch.tensor([5, 6, MODAL_INDEX["video"], 7])]
    video = [torch.randn(8, 3, 56, 56)]
    with torch.no_grad():
        a = model.mm_inputs(ids, video)["inputs_embeds"]
        b = again.mm_inputs(ids, video)["inputs_embeds"]
        la = model(inputs_embeds=a).logits
        lb = again(inputs_embeds=b).logits
    assert torch.equal(a, b) and torch.allclose(la, lb)


@pytest.mark.parametrize("frames, tokens", [(8, 845), (16, 1521)])
def test_stc_connector_token_counts(frames, tokens):
    proj = build_projector("stc_connector", 16, 16)
    out = proj(torch.randn(1, frames, 24 * 24, 16))
    assert out.shape == (1, tokens, 16)
    assert build_projector("stp_connector", 16, 16)(torch.randn(1, 8, 576, 16)).shape == (1, 576, 16)
    assert build_projector("stc_connector_v35", 16, 16)(torch.randn(1, 8, 576, 16)).shape == (1, 576, 16)


def test_splicing_puts_features_at_the_placeholder_and_masks_their_labels():
    model, _ = build_tiny_model(0)
    ids = [torch.tensor([10, 11, MODAL_INDEX["video"], 12, 13]), torch.tensor([20, 21])]
    labels = [torch.tensor([IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, 12, 13]), torch.tensor([IGNORE_INDEX, 21])]
    video = torch.randn(8, 3, 56, 56)
    with torch.no_grad():
        out = model.mm_inputs(ids, [video, None], labels, pad_left=False)
        n_feat = model.mm_inputs([ids[0]], [video])["inputs_embeds"].shape[1] - 4
    assert n_feat == 5 * 3 * 3  # 8 frames of 4x4 patches through the STC connector
    emb, mask, lab = out["inputs_embeds"], out["attention_mask"], out["labels"]
    assert emb.shape[:2] == (2, 4 + n_feat) and mask[0].all() and mask[1, :2].all() and not mask[1, 2:].any()
    assert (lab[0, 2:2 + n_feat] == IGNORE_INDEX).all() and lab[0, -2:].tolist() == [12, 13]
    assert torch.equal(emb[0, 0], model.model.embed_tokens.weight[10])
    with pytest.raises(ValueError, match="no <video>"):
        model.mm_inputs([torch.tensor([1, 2])], [video])


def test_batched_greedy_equals_one_by_one():
    model, tok = build_tiny_model(3)
    proc = processor_for(model)
    rng = np.random.default_rng(0)
    texts = ["What colour are the shapes ?", "Which way do the shapes move ? (A) left (B) right (C) up (D) down",
             "How many shapes ?", "Is there a circle ?"]
    videos = [proc(rng.integers(0, 255, (8, 40 + 8 * i, 64, 3), dtype=np.uint8)) for i in range(4)]
    one = [generate_batch(model, tok, [t], [v], ["video"], max_new_tokens=6)[0] for t, v in zip(texts, videos)]
    batched = generate_batch(model, tok, texts, videos, ["video"] * 4, max_new_tokens=6)
    assert batched == one


def test_prompt_per_family():
    tok = build_tokenizer()
    qwen = build_prompt(tok, "videollama2_qwen2", "Describe it.")
    mistral = build_prompt(tok, "videollama2_mistral", "Describe it.")
    assert qwen == ("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n<video>\n"
                    "Describe it.<|im_end|>\n<|im_start|>assistant\n")
    assert "helpful, respectful and honest assistant" in mistral and "helpful, respectful" not in qwen
    ids = tokenize_with_modal(qwen, tok)
    assert (ids == MODAL_INDEX["video"]).sum() == 1


@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory) -> Path:
    model, tok = build_tiny_model(1)
    out = tmp_path_factory.mktemp("tiny")
    save_checkpoint(model, out, tok)
    return out


def test_hub_id_vision_tower_loads_offline_with_a_local_override(tmp_path, tiny_ckpt):
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    cfg = json.loads((tiny_ckpt / "config.json").read_text())
    vision = cfg.pop("vision_config")
    cfg["mm_vision_tower"] = "openai/clip-vit-large-patch14-336"
    (ckpt / "config.json").write_text(json.dumps(cfg))
    (ckpt / "model.safetensors").write_bytes((tiny_ckpt / "model.safetensors").read_bytes())
    with pytest.raises(ModelLoadError, match="hub id"):
        load_pretrained(ckpt)
    local = tmp_path / "clip"
    local.mkdir()
    (local / "config.json").write_text(json.dumps(vision))
    assert load_pretrained(ckpt, vision_tower=str(local)).model.vision_tower.image_size == 56


def test_bad_checkpoints_give_one_clear_error(tmp_path, tiny_ckpt):
    def copy(name: str) -> Path:
        d = tmp_path / name
        d.mkdir()
        for f in tiny_ckpt.iterdir():
            (d / f.name).write_bytes(f.read_bytes())
        return d

    d = copy("unknown_type")
    cfg = json.loads((d / "config.json").read_text())
    (d / "config.json").write_text(json.dumps({**cfg, "model_type": "llava_llama"}))
    with pytest.raises(ModelLoadError, match="model_type 'llava_llama'"):
        load_pretrained(d)
    d = copy("unknown_proj")
    (d / "config.json").write_text(json.dumps({**cfg, "mm_projector_type": "qformer"}))
    with pytest.raises(ModelLoadError, match="unknown mm_projector_type 'qformer'"):
        load_pretrained(d)
    d = copy("shape")
    sd = load_file(d / "model.safetensors")
    sd["model.norm.weight"] = torch.zeros(7)
    save_file(sd, d / "model.safetensors")
    with pytest.raises(ModelLoadError, match="shape mismatches"):
        load_pretrained(d)
    d = copy("shard")
    (d / "model.safetensors").unlink()
    (d / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"lm_head.weight": "model-00001-of-00002.safetensors"}}))
    with pytest.raises(ModelLoadError, match="shards .* missing"):
        load_pretrained(d)


def test_projector_only_and_lora_checkpoints_load_over_a_base(tmp_path, tiny_ckpt):
    base = load_pretrained(tiny_ckpt)
    proj = tmp_path / "pretrain"
    proj.mkdir()
    (proj / "config.json").write_text((tiny_ckpt / "config.json").read_text())
    new = {k: torch.randn_like(v) for k, v in official_state_dict(base).items() if ".mm_projector." in k}
    save_file(new, proj / "mm_projector.safetensors")
    with pytest.raises(ModelLoadError, match="base="):
        load_pretrained(proj)
    got = load_pretrained(proj, base=tiny_ckpt)
    k = next(iter(new))
    assert torch.equal(official_state_dict(got)[k], new[k])
    lora = tmp_path / "lora"
    lora.mkdir()
    (lora / "config.json").write_text((tiny_ckpt / "config.json").read_text())
    a, b = torch.randn(2, 64), torch.randn(64, 2)
    save_file({"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": a,
               "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight": b}, lora / "adapter_model.safetensors")
    (lora / "adapter_config.json").write_text(json.dumps({"r": 2, "lora_alpha": 4}))
    merged = load_pretrained(lora, base=tiny_ckpt)
    w0 = base.model.layers[0].self_attn.q_proj.weight
    assert torch.allclose(merged.model.layers[0].self_attn.q_proj.weight, w0 + 2.0 * (b @ a), atol=1e-5)


def test_model_init_and_adapter_on_the_shipped_default():
    from harness.models.adapters.videollama2 import VideoLLaMA2Adapter
    from harness.types import Frames, Request

    adapter = VideoLLaMA2Adapter(batch_size=2)
    assert adapter.info()["attn_implementation"] in ("sdpa", "flash_attention_2")
    frames = Frames(np.zeros((8, 64, 64, 3), np.uint8), list(range(8)), [i / 8 for i in range(8)])
    out = adapter.generate([Request("a", "What colour ?", frames, "video", {"max_new_tokens": 3}),
                            Request("b", "Hello", None, "text", {"max_new_tokens": 3})])
    assert len(out) == 2 and all(isinstance(t, str) for t in out)
    assert adapter.frame_policy().n == 8 and adapter.fingerprint().startswith("videollama2-")
    _model, processor, tok = model_init(Path(adapter.args["path"]))
    assert processor(np.zeros((8, 64, 64, 3), np.uint8)).shape == (8, 3, 56, 56) and tok.pad_token is not None
    # CPU: fp32 weights, a deviation from the seed's fp16-on-GPU evaluation; padding is opt-in and recorded
    assert adapter.deviations() == ["weights in float32 (the seed: float16 on a GPU)"]
    padded = VideoLLaMA2Adapter(aspect_ratio="pad")
    assert padded.processor.aspect == "pad" and "frames padded to square" in padded.deviations()[0]
    assert padded.fingerprint() != adapter.fingerprint()
    with pytest.raises(ConfigError, match="aspect_ratio"):
        VideoLLaMA2Adapter(aspect_ratio="square")
    # describe(): what planning needs, without loading the weights, equal to what the loaded adapter says
    for loaded, args in ((adapter, {"batch_size": 2}), (padded, {"aspect_ratio": "pad"})):
        d = VideoLLaMA2Adapter.describe(**args)
        assert (d.fingerprint, d.frame_policy, d.deviations, d.args, d.batch_size) == (
            loaded.fingerprint(), loaded.frame_policy(), loaded.deviations(), loaded.args, loaded.batch_size)
        assert {k: v for k, v in loaded.info().items() if k in d.info} == d.info
    assert VideoLLaMA2Adapter.describe(num_frames=4).frame_policy.n == 4
    assert VideoLLaMA2Adapter.describe(path="/nonexistent") is None  # loading reports what is wrong


def test_processor_pads_short_videos_with_black_frames_and_keeps_at_most_32():
    """process_video's tail: a gif whose sampled frames collapse comes back short and is padded with
    black frames (the seed's quirk: each pad has the previous frame's width and height swapped),
    and no more than MAX_FRAMES frames reach the tower; an image is repeated num_frames times."""
    model, _ = build_tiny_model(0)
    proc = processor_for(model)
    frames = np.full((3, 40, 64, 3), 200, np.uint8)
    out = proc(frames)
    black = proc(np.zeros((1, 64, 40, 3), np.uint8))[0]
    assert out.shape == (8, 3, 56, 56) and all(torch.equal(out[i], black) for i in range(3, 8))
    assert not torch.equal(out[0], black)
    assert proc(np.zeros((40, 64, 64, 3), np.uint8)).shape[0] == 32
    image = proc(frames[:1], "image")
    assert image.shape == (8, 3, 56, 56) and torch.equal(image[0], image[7]) and torch.equal(image[0], out[0])
