"""Checkpoints in the official on-disk format: save, load (full / LoRA / projector-only), validate.

Weights are read only through safetensors or `torch.load(weights_only=True)`. Key names are the
official ones; transformers 5 fuses Mixtral experts, so those are converted on the way in and out.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from harness.errors import ModelLoadError

from .config import CONFIGS
from .connector import PROJECTORS
from .modeling import MODELS

DTYPES = {"fp32": torch.float32, "float32": torch.float32, "bf16": torch.bfloat16, "bfloat16": torch.bfloat16,
          "fp16": torch.float16, "float16": torch.float16}
_MOE = re.compile(r"(model\.layers\.\d+)\.block_sparse_moe\.experts\.(\d+)\.(w[123])\.weight")


def attention_implementation(requested: str = "auto") -> str:
    if requested != "auto":
        return requested
    try:
        import flash_attn  # noqa: F401

        return "flash_attention_2" if torch.cuda.is_available() else "sdpa"
    except ImportError:
        return "sdpa"


def to_official(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """transformers-5 Mixtral keys -> the official per-expert w1/w2/w3 keys."""
    out: dict[str, torch.Tensor] = {}
    for k, v in sd.items():
        if k.endswith(".mlp.experts.gate_up_proj"):
            layer = k[: -len(".mlp.experts.gate_up_proj")]
            for e, w in enumerate(v):
                w1, w3 = w.chunk(2, dim=0)
                out[f"{layer}.block_sparse_moe.experts.{e}.w1.weight"] = w1.contiguous()
                out[f"{layer}.block_sparse_moe.experts.{e}.w3.weight"] = w3.contiguous()
        elif k.endswith(".mlp.experts.down_proj"):
            layer = k[: -len(".mlp.experts.down_proj")]
            for e, w in enumerate(v):
                out[f"{layer}.block_sparse_moe.experts.{e}.w2.weight"] = w.contiguous()
        else:
            out[k] = v
    return out


def from_official(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Official Mixtral expert keys -> transformers-5 fused tensors; other keys unchanged."""
    experts: dict[str, dict[int, dict[str, torch.Tensor]]] = {}
    out: dict[str, torch.Tensor] = {}
    for k, v in sd.items():
        m = _MOE.fullmatch(k)
        if m:
            experts.setdefault(m.group(1), {}).setdefault(int(m.group(2)), {})[m.group(3)] = v
        elif ".block_sparse_moe.gate." in k:
            out[k.replace(".block_sparse_moe.gate.", ".mlp.gate.")] = v
        else:
            out[k] = v
    for layer, by_e in experts.items():
        order = sorted(by_e)
        out[f"{layer}.mlp.experts.gate_up_proj"] = torch.stack([torch.cat([by_e[e]["w1"], by_e[e]["w3"]]) for e in order])
        out[f"{layer}.mlp.experts.down_proj"] = torch.stack([by_e[e]["w2"] for e in order])
    return out


def official_state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    sd = dict(model.state_dict())
    if model.config.model_type == "videollama2_mixtral":
        sd = {k.replace(".mlp.gate.", ".block_sparse_moe.gate.") if ".mlp.gate.weight" in k else k: v for k, v in sd.items()}
    return to_official(sd)


def save_checkpoint(model: torch.nn.Module, out: Path, tokenizer: Any = None, shard_bytes: int = 2 << 30) -> None:
    """Config + sharded model.safetensors(.index.json) + tokenizer, the layout the loaders read."""
    out.mkdir(parents=True, exist_ok=True)
    model.config.save_pretrained(out)
    sd = {k: v.detach().cpu().contiguous() for k, v in official_state_dict(model).items()}
    if "lm_head.weight" in sd and getattr(model.config, "tie_word_embeddings", False):
        sd.pop("lm_head.weight")
    shards: list[dict[str, torch.Tensor]] = [{}]
    size = 0
    for k in sorted(sd):
        nbytes = sd[k].numel() * sd[k].element_size()
        if size and size + nbytes > shard_bytes:
            shards.append({})
            size = 0
        shards[-1][k] = sd[k]
        size += nbytes
    if len(shards) == 1:
        save_file(shards[0], out / "model.safetensors", metadata={"format": "pt"})
    else:
        weight_map = {}
        for i, shard in enumerate(shards):
            name = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
            save_file(shard, out / name, metadata={"format": "pt"})
            weight_map.update({k: name for k in shard})
        (out / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}, indent=2))
    if tokenizer is not None:
        tokenizer.save_pretrained(out)


def read_config(path: Path) -> Any:
    cfg_file = path / "config.json"
    if not cfg_file.exists():
        raise ModelLoadError(f"no config.json in {path}", hint="pass path=<an HF checkpoint directory>")
    data = json.loads(cfg_file.read_text())
    mt = data.get("model_type")
    if mt not in CONFIGS:
        raise ModelLoadError(f"{cfg_file}: model_type {mt!r} is not a VideoLLaMA2 type", hint=f"expected one of {sorted(CONFIGS)}")
    proj = data.get("mm_projector_type", "stc_connector")
    if proj not in PROJECTORS and not re.fullmatch(r"mlp\d+x_gelu", proj):
        raise ModelLoadError(f"{cfg_file}: unknown mm_projector_type {proj!r}", hint=f"supported: {', '.join(PROJECTORS)}")
    return CONFIGS[mt].from_dict({k: v for k, v in data.items() if k != "model_type"})


def read_weights(path: Path) -> dict[str, torch.Tensor]:
    index = path / "model.safetensors.index.json"
    if index.exists():
        weight_map = json.loads(index.read_text())["weight_map"]
        missing = sorted({f for f in weight_map.values() if not (path / f).exists()})
        if missing:
            raise ModelLoadError(f"{path}: shards listed in model.safetensors.index.json are missing: {missing}")
        sd: dict[str, torch.Tensor] = {}
        for f in sorted(set(weight_map.values())):
            sd.update(load_file(path / f))
        return sd
    if (path / "model.safetensors").exists():
        return load_file(path / "model.safetensors")
    bins = sorted(path.glob("pytorch_model*.bin"))
    if bins:
        sd = {}
        for b in bins:
            sd.update(torch.load(b, map_location="cpu", weights_only=True))
        return sd
    raise ModelLoadError(f"no weights in {path}", hint="expected model.safetensors, a sharded index, or pytorch_model*.bin")


def build_model(config: Any, vision_tower: str | None = None, base_dir: Path | None = None,
                attn: str = "auto") -> torch.nn.Module:
    from transformers.initialization import no_init_weights

    config._attn_implementation = attention_implementation(attn)
    with no_init_weights():  # every weight is about to be overwritten: skip random init (minutes at 7B)
        return MODELS[config.model_type](config, vision_override=vision_tower, base_dir=base_dir)


def load_state(model: torch.nn.Module, sd: dict[str, torch.Tensor], where: Path) -> None:
    sd = from_official(sd)
    own = model.state_dict()
    if getattr(model.config, "tie_word_embeddings", False):
        sd.setdefault("lm_head.weight", sd.get("model.embed_tokens.weight"))
    missing = sorted(set(own) - set(sd))
    unexpected = sorted(set(sd) - set(own))
    bad = [f"{k}: checkpoint {tuple(sd[k].shape)} vs model {tuple(own[k].shape)}"
           for k in set(own) & set(sd) if sd[k].shape != own[k].shape]
    if missing or unexpected or bad:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing keys (e.g. {missing[:3]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys (e.g. {unexpected[:3]})")
        if bad:
            parts.append(f"{len(bad)} shape mismatches (e.g. {bad[:2]})")
        raise ModelLoadError(f"{where}: weights do not fit the config: " + "; ".join(parts))
    model.load_state_dict(sd, strict=True)


def lora_merge(sd: dict[str, torch.Tensor], adapter: dict[str, torch.Tensor], scale: float) -> None:
    """Fold PEFT `lora_A`/`lora_B` pairs into the base weights in place: W += scale * B @ A."""
    for k, a in adapter.items():
        if ".lora_A." not in k:
            continue
        b = adapter[k.replace(".lora_A.", ".lora_B.")]
        target = re.sub(r"^base_model\.model\.", "", k).replace(".lora_A.weight", ".weight").replace(".lora_A.default.weight", ".weight")
        if target not in sd:
            raise ModelLoadError(f"LoRA adapter targets {target}, which the base model does not have")
        sd[target] = (sd[target].float() + scale * (b.float() @ a.float())).to(sd[target].dtype)


def load_pretrained(path: str | Path, base: str | Path | None = None, dtype: str = "fp32", device: str = "cpu",
                    vision_tower: str | None = None, attn: str = "auto") -> torch.nn.Module:
    """Full checkpoint; LoRA dir (adapter_model.safetensors + non_lora_trainables) over `base`;
    or a projector-only dir (mm_projector.bin/.safetensors) over `base`."""
    path = Path(path)
    if not path.is_dir():
        raise ModelLoadError(f"checkpoint directory not found: {path}")
    config = read_config(path)
    lora = (path / "adapter_model.safetensors").exists() or (path / "adapter_model.bin").exists()
    projector_only = any((path / f).exists() for f in ("mm_projector.bin", "mm_projector.safetensors"))
    if (lora or projector_only) and base is None:
        raise ModelLoadError(f"{path} holds {'a LoRA adapter' if lora else 'only the projector'}",
                             hint="also pass base=<the base model directory>")
    model = build_model(config, vision_tower, path, attn)
    if lora or projector_only:
        sd = read_weights(Path(base))
        if lora:
            adapter = _read_any(path, "adapter_model")
            acfg = json.loads((path / "adapter_config.json").read_text()) if (path / "adapter_config.json").exists() else {}
            lora_merge(sd, adapter, float(acfg.get("lora_alpha", 16)) / float(acfg.get("r", 8)))
            extra = _read_any(path, "non_lora_trainables", required=False)
        else:
            extra = _read_any(path, "mm_projector")
        sd.update({re.sub(r"^(base_model\.model\.)+", "", k): v for k, v in extra.items()})
        if not any(k.startswith("model.vision_tower.") for k in sd):
            raise ModelLoadError(f"{base} has no vision tower weights")
    else:
        sd = read_weights(path)
    load_state(model, sd, path)
    return model.to(device=device, dtype=DTYPES.get(dtype, torch.float32)).eval()


def _read_any(path: Path, stem: str, required: bool = True) -> dict[str, torch.Tensor]:
    if (path / f"{stem}.safetensors").exists():
        return load_file(path / f"{stem}.safetensors")
    if (path / f"{stem}.bin").exists():
        return torch.load(path / f"{stem}.bin", map_location="cpu", weights_only=True)
    if required:
        raise ModelLoadError(f"{path}: {stem}.safetensors/.bin not found")
    return {}
