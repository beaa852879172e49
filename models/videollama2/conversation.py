"""Prompts per LLM family, built with the tokenizer's own chat template (as official)."""

from __future__ import annotations

from typing import Any

import torch

from .constants import LLAMA2_SYSTEM, MODAL_INDEX, MODAL_TOKEN

SYSTEM_BY_TYPE = {"videollama2": LLAMA2_SYSTEM, "videollama2_mistral": LLAMA2_SYSTEM,
                  "videollama2_mixtral": LLAMA2_SYSTEM, "videollama2_qwen2": None}


def build_prompt(tokenizer: Any, model_type: str, instruction: str, modal: str = "video") -> str:
    """The user turn is `<video>\\n` + instruction; Mistral/Mixtral get the Llama-2 system text, Qwen2 none."""
    user = (MODAL_TOKEN[modal] + "\n" + instruction) if modal in MODAL_TOKEN else instruction
    messages = []
    system = SYSTEM_BY_TYPE.get(model_type)
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
