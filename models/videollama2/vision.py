"""Vision towers (CLIP ViT-L/14-336, SigLIP) with the official selection of layer and feature."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import CLIPVisionConfig, CLIPVisionModel, SiglipVisionConfig, SiglipVisionModel

from harness.errors import ModelLoadError


def tower_kind(name: str) -> str:
    lowered = name.lower()
    if "siglip" in lowered:
        return "siglip"
    if "clip" in lowered:
        return "clip"
    raise ModelLoadError(f"cannot tell the vision tower family from {name!r}",
                         hint="mm_vision_tower must name a CLIP or SigLIP model")


def resolve_vision_config(config: Any, override: str | Path | None = None,
                          base_dir: Path | None = None) -> tuple[str, dict[str, Any], Path | None]:
    """(kind, vision config dict, the tower's local folder or None). Order: an explicit override
    dir, the checkpoint's inline `vision_config`, `mm_vision_tower` as a local dir (absolute or
    relative to the checkpoint). The folder also holds the tower's preprocessor_config.json."""
    name = str(config.mm_vision_tower)
    kind = tower_kind(name)
    if override is None and config.vision_config:
        return kind, dict(config.vision_config), None
    candidates = ([Path(override)] if override else []) + [Path(name)] + ([base_dir / name] if base_dir else [])
    for c in candidates:
        cfg_file = c / "config.json"
        if cfg_file.exists():
            data = json.loads(cfg_file.read_text())
            return kind, data.get("vision_config", data), c  # a full CLIP config nests it
    raise ModelLoadError(f"vision tower {name!r} is a hub id and no local copy of its config was found",
                         hint="pass vision_tower=/local/dir/with/config.json (nothing is downloaded)")


class _Holder(nn.Module):
    """Gives the official key path `vision_tower.vision_tower.vision_model.*`."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.vision_model = model


class VisionTower(nn.Module):
    def __init__(self, kind: str, vision_config: dict[str, Any], select_layer: int = -2, select_feature: str = "patch",
                 source_dir: Path | None = None):
        super().__init__()
        self.source_dir = source_dir  # where its preprocessor_config.json may be (None: the hub defaults)
        cfg_cls, model_cls = (CLIPVisionConfig, CLIPVisionModel) if kind == "clip" else (SiglipVisionConfig, SiglipVisionModel)
        vc = {k: v for k, v in vision_config.items() if k not in ("model_type", "architectures", "transformers_version")}
        self.kind = kind
        self.config = cfg_cls(**vc)
        self.vision_tower = _Holder(model_cls(self.config))
        self.select_layer = select_layer
        self.select_feature = select_feature

    @property
    def image_size(self) -> int:
        return int(self.config.image_size)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:  # (N, 3, S, S) -> (N, L, D)
        # A frozen tower (the official recipe) builds no graph, as the official no_grad forward;
        # a tower being trained (--tune_vision_tower) keeps its gradients.
        trainable = torch.is_grad_enabled() and any(p.requires_grad for p in self.parameters())
        with torch.set_grad_enabled(trainable):
            out = self.vision_tower.vision_model(pixels.to(self.vision_tower.vision_model.dtype), output_hidden_states=True)
            feats = out.hidden_states[self.select_layer]
        if self.kind == "clip" and self.select_feature == "patch":
            feats = feats[:, 1:]  # drop CLS; SigLIP has none
        return feats
