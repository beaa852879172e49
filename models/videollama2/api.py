"""Library API in the official shape: model_init(path) -> (model, processor, tokenizer); mm_infer(...)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import AutoTokenizer

from .conversation import build_prompt, tokenize_with_modal
from .load import load_pretrained
from .processor import ASPECTS, Processor, build_image_processor


def processor_for(model: Any, aspect: str | None = "none") -> Processor:
    """The frames -> pixels step for `model`. `aspect`: "none" (the seed's evaluation: no padding),
    "pad", or None for the config's `image_aspect_ratio` (what training uses, as official)."""
    tower = model.model.vision_tower
    aspect = aspect or ("pad" if model.config.image_aspect_ratio == "pad" else "none")
    if aspect not in ASPECTS:
        raise ValueError(f"aspect {aspect!r} is not one of {ASPECTS}")
    return Processor(build_image_processor(tower.kind, tower.image_size, tower.source_dir), aspect,
                     int(model.config.num_frames))


def model_init(path: str | Path, aspect: str = "none", **load_kwargs: Any) -> tuple[Any, Processor, Any]:
    model = load_pretrained(path, **load_kwargs)
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.unk_token  # as official
    return model, processor_for(model, aspect), tokenizer


def generate_batch(model: Any, tokenizer: Any, instructions: list[str], videos: list[torch.Tensor | None],
                   modals: list[str], **gen: Any) -> list[str]:
    """Batched greedy/sampled generation; returns the stripped new text per sample."""
    ids = [tokenize_with_modal(build_prompt(tokenizer, model.config.model_type, text, modal), tokenizer, modal)
           for text, modal in zip(instructions, modals)]
    gen = dict(gen)
    if not gen.get("do_sample"):
        gen.pop("temperature", None)
        gen.pop("top_p", None)
    gen.setdefault("max_new_tokens", 2048)  # mm_infer's default
    out = model.mm_generate(ids, videos, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, **gen)
    return [t.strip() for t in tokenizer.batch_decode(out, skip_special_tokens=True)]


def mm_infer(frames: np.ndarray | None, instruct: str, model: Any, tokenizer: Any, processor: Processor | None = None,
             modal: str = "video", do_sample: bool = False, temperature: float = 0.2, top_p: float = 0.9,
             max_new_tokens: int = 2048) -> str:
    processor = processor or processor_for(model)
    video = processor(frames, modal).to(model.dtype) if frames is not None and modal != "text" else None
    gen: dict[str, Any] = {"do_sample": do_sample, "max_new_tokens": max_new_tokens}
    if do_sample:
        gen.update(temperature=temperature, top_p=top_p)
    return generate_batch(model, tokenizer, [instruct], [video], [modal if video is not None else "text"], **gen)[0]
