"""Prompts per LLM family, built with the tokenizer's own chat template (as official)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from harness import prompts

from .constants import MODAL_INDEX, MODAL_TOKEN

SYSTEM_FILE = Path(__file__).resolve().parent / "prompts" / "system.txt"  # protocol text, as mm_infer sends it
WITH_SYSTEM = {"videollama2", "videollama2_mistral", "videollama2_mixtral"}  # Qwen2 models get none


def system_message(model_type: str) -> str | None:
    """The system turn mm_infer prepends for this model type (the Llama-2 text in its <<SYS>> wrapper)."""
    return prompts.load(SYSTEM_FILE).section("system") if model_type in WITH_SYSTEM else None


def build_prompt(tokenizer: Any, model_type: str, instruction: str, modal: str = "video") -> str:
    """The user turn is `<video>\\n` + instruction; Mistral/Mixtral get the Llama-2 system text, Qwen2 none."""
    user = MODAL_TOKEN.get(modal, "") + "\n" + instruction  # text-only: "" + "\n" + instruction, as mm_infer
    messages = []
    system = system_message(model_type)
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": user})
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def tokenize_with_modal(prompt: str, tokenizer: Any, modal: str = "video") -> torch.Tensor:
    """Split on the modal token, tokenise the pieces, join them with the modal's index (-201 for video)."""
    token = MODAL_TOKEN.get(modal)
    pieces = prompt.split(token) if token else [prompt]
    ids: list[int] = []
    for i, piece in enumerate(pieces):
        if i:
            ids.append(MODAL_INDEX[modal])
        ids.extend(tokenizer(piece, add_special_tokens=False)["input_ids"])
    return torch.tensor(ids, dtype=torch.long)
