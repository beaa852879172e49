"""Library API in the official shape: model_init(path) -> (model, processor, tokenizer); mm_infer(...)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import AutoTokenizer

from .conversation import build_prompt, tokenize_with_modal
from .load import load_pretrained
from .processor import preprocess_frames


@dataclass
class Processor:
    """Turns decoded frames into the tower's pixels (the official processor dict, as one object)."""

    size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    aspect: str
    num_frames: int

    def __call__(self, frames: np.ndarray) -> torch.Tensor:  # (T, H, W, 3) uint8 -> (T, 3, S, S)
        return preprocess_frames(frames, self.size, self.mean, self.std, self.aspect, self.num_frames)


def processor_for(model: Any) -> Processor:
    tower = model.model.vision_tower
    mean, std = tower.mean_std
    return Processor(tower.image_size, mean, std, model.config.image_aspect_ratio, int(model.config.num_frames))


def model_init(path: str | Path, **load_kwargs: Any) -> tuple[Any, Processor, Any]:
    model = load_pretrained(path, **load_kwargs)
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.unk_token  # as official
    return model, processor_for(model), tokenizer


def generate_batch(model: Any, tokenizer: Any, instructions: list[str], videos: list[torch.Tensor | None],
                   modals: list[str], **gen: Any) -> list[str]:
    """Batched greedy/sampled generation; returns the stripped new text per sample."""
    ids = [tokenize_with_modal(build_prompt(tokenizer, model.config.model_type, text, modal), tokenizer, modal)
           for text, modal in zip(instructions, modals)]
    gen = dict(gen)
    if not gen.get("do_sample"):
        gen.pop("temperature", None)
        gen.pop("top_p", None)
    gen.setdefault("max_new_tokens", 64)
    out = model.mm_generate(ids, videos, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, **gen)
    return [t.strip() for t in tokenizer.batch_decode(out, skip_special_tokens=True)]


def mm_infer(frames: np.ndarray | None, instruct: str, model: Any, tokenizer: Any, processor: Processor | None = None,
             modal: str = "video", do_sample: bool = False, temperature: float = 0.2, top_p: float = 0.9,
             max_new_tokens: int = 2048) -> str:
    processor = processor or processor_for(model)
    video = processor(frames).to(model.dtype) if frames is not None and modal != "text" else None
    gen: dict[str, Any] = {"do_sample": do_sample, "max_new_tokens": max_new_tokens}
    if do_sample:
        gen.update(temperature=temperature, top_p=top_p)
    return generate_batch(model, tokenizer, [instruct], [video], [modal if video is not None else "text"], **gen)[0]
