"""VideoLLaMA2 = vision tower -> connector -> language model, on transformers' Mistral/Mixtral/Qwen2.

The multimodal parts hang off the LLM's inner model (`model.vision_tower`, `model.mm_projector`)
because that is where the official checkpoints keep them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import MistralForCausalLM, MixtralForCausalLM, Qwen2ForCausalLM

from .config import VideoLLaMA2MistralConfig, VideoLLaMA2MixtralConfig, VideoLLaMA2Qwen2Config
from .connector import build_projector
from .constants import IGNORE_INDEX, MODAL_INDEX
from .vision import VisionTower, resolve_vision_config


def attach_parts(inner: nn.Module, config: Any, vision_override: str | Path | None = None,
                 base_dir: Path | None = None) -> None:
    kind, vcfg, source = resolve_vision_config(config, vision_override, base_dir)
    inner.vision_tower = VisionTower(kind, vcfg, config.mm_vision_select_layer, config.mm_vision_select_feature, source)
    inner.mm_projector = build_projector(config.mm_projector_type, config.mm_hidden_size, config.hidden_size)


def encode_videos(inner: nn.Module, videos: torch.Tensor) -> torch.Tensor:
    """(B, T, 3, S, S) -> (B, tokens, hidden). Frames go through the tower as one (B*T) batch."""
    b, t = videos.shape[:2]
    feats = inner.vision_tower(videos.flatten(0, 1))  # (B*T, N, D)
    feats = feats.reshape(b, t, *feats.shape[1:])  # (B, T, N, D)
    proj = inner.mm_projector
    return proj(feats.to(next(proj.parameters()).dtype))


def splice(embed: nn.Module, input_ids: list[torch.Tensor], features: list[torch.Tensor | None],
           labels: list[torch.Tensor] | None, pad_left: bool) -> dict[str, torch.Tensor]:
    """Replace each placeholder id with its sample's feature rows; pad the batch.

    input_ids[i]: (L_i,) with MODAL_INDEX values at placeholders. Returns inputs_embeds (B, L, H),
    attention_mask (B, L), and labels (B, L) with IGNORE_INDEX on features and padding.
    Left padding for generation (new tokens follow every prompt directly), right for training.
    """
    modal_ids = torch.tensor(list(MODAL_INDEX.values()))
    rows, row_labels = [], []
    for i, ids in enumerate(input_ids):
        is_modal = torch.isin(ids, modal_ids)
        text_emb = embed(ids.clamp(min=0))  # (L_i, H); placeholder rows replaced below
        feat = features[i]
        n_placeholders = int(is_modal.sum())
        if feat is not None and n_placeholders == 0:
            raise ValueError(f"sample {i}: frames given but the prompt has no <video>/<image> placeholder")
        if n_placeholders > 1:
            raise ValueError(f"sample {i}: {n_placeholders} placeholders for one media input")
        lab = labels[i] if labels is not None else torch.full_like(ids, IGNORE_INDEX)
        if n_placeholders == 0:
            rows.append(text_emb)
            row_labels.append(lab)
            continue
        if feat is None:
            raise ValueError(f"sample {i}: a placeholder but no frames")
        p = int(is_modal.nonzero()[0])
        rows.append(torch.cat([text_emb[:p], feat.to(text_emb.dtype), text_emb[p + 1:]]))
        row_labels.append(torch.cat([lab[:p], torch.full((feat.shape[0],), IGNORE_INDEX, dtype=lab.dtype), lab[p + 1:]]))
    longest = max(r.shape[0] for r in rows)
    hidden = rows[0].shape[1]
    emb = rows[0].new_zeros(len(rows), longest, hidden)
    mask = torch.zeros(len(rows), longest, dtype=torch.long)
    lab_out = torch.full((len(rows), longest), IGNORE_INDEX, dtype=torch.long)
    for i, (r, lab) in enumerate(zip(rows, row_labels)):
        sl = slice(longest - r.shape[0], longest) if pad_left else slice(0, r.shape[0])
        emb[i, sl], mask[i, sl], lab_out[i, sl] = r, 1, lab
    return {"inputs_embeds": emb, "attention_mask": mask.to(emb.device), "labels": lab_out.to(emb.device)}


class _VideoLLaMA2:
    """Shared multimodal entry points, composed into each family's CausalLM class below."""

    def mm_inputs(self, input_ids: list[torch.Tensor], videos: list[torch.Tensor | None],
                  labels: list[torch.Tensor] | None = None, pad_left: bool = True) -> dict[str, torch.Tensor]:
        inner = self.model
        feats: list[torch.Tensor | None] = [None] * len(videos)
        idx = [i for i, v in enumerate(videos) if v is not None]
        if idx:
            stacked = torch.stack([videos[i] for i in idx]).to(self.device)  # (B', T, 3, S, S)
            enc = encode_videos(inner, stacked)
            for j, i in enumerate(idx):
                feats[i] = enc[j]
        ids = [t.to(self.device) for t in input_ids]
        return splice(inner.embed_tokens, ids, feats, labels, pad_left)

    def forward(self, *args: Any, videos: list[torch.Tensor | None] | None = None, **kwargs: Any) -> Any:
        """The LLM's forward; with `videos` (training, as the official forward takes `images`),
        `input_ids`/`labels` are per-sample lists with placeholders, spliced here so that a DDP or
        DeepSpeed wrapper around the whole model sees one forward call."""
        if videos is None:
            return super().forward(*args, **kwargs)  # type: ignore[misc]
        for k in ("inputs_embeds", "attention_mask", "position_ids"):  # wrappers (PEFT) pass these as None
            if kwargs.get(k) is None:
                kwargs.pop(k, None)
        batch = self.mm_inputs(kwargs.pop("input_ids"), videos, kwargs.pop("labels", None), pad_left=False)
        return super().forward(inputs_embeds=batch["inputs_embeds"], attention_mask=batch["attention_mask"],  # type: ignore[misc]
                               labels=batch["labels"], **kwargs)

    @torch.inference_mode()
    def mm_generate(self, input_ids: list[torch.Tensor], videos: list[torch.Tensor | None], **gen: Any) -> torch.Tensor:
        batch = self.mm_inputs(input_ids, videos, pad_left=True)
        return self.generate(inputs_embeds=batch["inputs_embeds"], attention_mask=batch["attention_mask"],
                             use_cache=True, **gen)


def _family(base: type, config_cls: type) -> type:
    class Model(_VideoLLaMA2, base):  # type: ignore[misc, valid-type]
        def __init__(self, config: Any, vision_override: str | Path | None = None, base_dir: Path | None = None):
            super().__init__(config)
            self.post_init()
            # Attached after the LLM's init, as the official builds them after loading the LLM: the
            # tower keeps its own (CLIP/SigLIP) init and the connector PyTorch's default. The LLM's
            # normal(0.02) init on the connector's convs leaves a fresh connector nearly untrainable.
            attach_parts(self.model, config, vision_override, base_dir)

    Model.config_class = config_cls
    Model.__name__ = Model.__qualname__ = f"VideoLLaMA2{base.__name__}"
    return Model


VideoLLaMA2MistralForCausalLM = _family(MistralForCausalLM, VideoLLaMA2MistralConfig)
VideoLLaMA2MixtralForCausalLM = _family(MixtralForCausalLM, VideoLLaMA2MixtralConfig)
VideoLLaMA2Qwen2ForCausalLM = _family(Qwen2ForCausalLM, VideoLLaMA2Qwen2Config)

MODELS = {
    "videollama2": VideoLLaMA2MistralForCausalLM,
    "videollama2_mistral": VideoLLaMA2MistralForCausalLM,
    "videollama2_mixtral": VideoLLaMA2MixtralForCausalLM,
    "videollama2_qwen2": VideoLLaMA2Qwen2ForCausalLM,
}
