"""Training data in the official VideoLLaMA2 format: validation, tokenising with label masking, decoding.

A record is `{"id", "video"|"image": path relative to --data_folder, "conversations": [{"from":
"human"|"gpt", "value"}, ...]}` with the `<video>`/`<image>` placeholder in a human turn. Only the
assistant turns are learned: every other token's label is IGNORE_INDEX.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from harness.errors import DataError
from harness.types import FramePolicy, MediaRef

from .constants import IGNORE_INDEX, MODAL_TOKEN
from .conversation import system_message, tokenize_with_modal

ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant"}


class TrainDataError(DataError):
    """A training record that cannot be used; the message names the file and the record."""


@dataclass
class Example:
    id: str
    modal: str  # "video" | "image" | "text"
    media: MediaRef | None
    messages: list[dict[str, str]]  # chat-template roles: user / assistant, alternating


def _check(rec: Any, i: int, folder: Path) -> Example:
    """One record -> Example, or TrainDataError saying what is wrong with it."""
    if not isinstance(rec, dict):
        raise ValueError(f"is a {type(rec).__name__}, not an object")  # noqa: TRY004 - every bad record is a ValueError to the caller
    conv = rec.get("conversations")
    if not isinstance(conv, list) or not conv:
        raise ValueError("has no `conversations` list")
    messages = []
    for t, turn in enumerate(conv):
        if not isinstance(turn, dict) or turn.get("from") not in ROLES or not isinstance(turn.get("value"), str):
            raise ValueError(f"turn {t} is not {{'from': 'human'|'gpt', 'value': str}}")
        role = ROLES[turn["from"]]
        if role != ("user" if t % 2 == 0 else "assistant"):
            raise ValueError(f"turn {t} is from {turn['from']!r}: turns must alternate human, gpt, human, ...")
        messages.append({"role": role, "content": turn["value"]})
    if messages[-1]["role"] != "assistant":
        raise ValueError("ends with a human turn: there is no answer to learn")
    keys = [k for k in ("video", "image") if rec.get(k)]
    if len(keys) > 1:
        raise ValueError("has both `video` and `image`")
    modal = keys[0] if keys else "text"
    counts = {m: sum(msg["content"].count(MODAL_TOKEN[m]) for msg in messages) for m in ("video", "image")}
    expected = {m: int(m == modal) for m in counts}
    if counts != expected:
        raise ValueError(f"has {counts['video']} <video> and {counts['image']} <image> placeholders for "
                         f"{'a ' + modal if keys else 'no media'} (expected exactly one placeholder per media)")
    if any(MODAL_TOKEN[modal] in m["content"] for m in messages if m["role"] == "assistant") if keys else False:
        raise ValueError("has the placeholder in a gpt turn")
    media = None
    if keys:
        rel = rec[modal]
        if not isinstance(rel, str):
            raise ValueError(f"`{modal}` is not a path string")
        path = (folder / rel).resolve()
        if not (path.is_file() or path.is_dir()):
            raise ValueError(f"{modal} file not found: {path}")
        media = MediaRef(str(path), "image" if modal == "image" else "video")
    return Example(str(rec.get("id", i)), modal, media, messages)


def load_examples(data_path: str | Path, data_folder: str | Path | None = None,
                  skip_bad: bool = False) -> tuple[list[Example], list[str]]:
    """Read and validate every record. A bad record raises TrainDataError naming it, unless
    `skip_bad`: then it is left out and listed in the returned problems."""
    data_path = Path(data_path)
    folder = Path(data_folder) if data_folder else data_path.parent
    try:
        data = json.loads(data_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TrainDataError(f"training data not found: {data_path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise TrainDataError(f"{data_path} is not valid JSON: {e}") from None
    if not isinstance(data, list):
        raise TrainDataError(f"{data_path}: expected a JSON list of records, got {type(data).__name__}")
    examples, problems = [], []
    for i, rec in enumerate(data):
        try:
            examples.append(_check(rec, i, folder))
        except ValueError as e:
            rid = rec.get("id") if isinstance(rec, dict) else None
            msg = f"{data_path}: record {i} (id {rid!r}) {e}"
            if not skip_bad:
                raise TrainDataError(msg, hint="fix the record, or pass --skip_bad_samples to leave it out") from None
            problems.append(msg)
    if not examples:
        raise TrainDataError(f"{data_path}: no usable records ({len(problems)} bad)")
    return examples, problems


def _render(tokenizer: Any, messages: list[dict[str, str]], add_generation_prompt: bool) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)


def encode(example: Example, tokenizer: Any, model_type: str, max_length: int = 2048) -> tuple[torch.Tensor, torch.Tensor]:
    """input_ids (L,) with the modal index at the placeholder, labels (L,) = the ids on assistant
    text (answer + end-of-turn), IGNORE_INDEX elsewhere. Built from the chat template rendered
    turn by turn, so the prompt part is exactly what inference builds for the same question."""
    system = system_message(model_type)
    msgs = ([{"role": "system", "content": system}] if system else []) + example.messages
    modal = example.modal if example.modal != "text" else "none"
    ids: list[torch.Tensor] = []
    labels: list[torch.Tensor] = []
    done = ""
    for k in range(len(msgs)):
        if msgs[k]["role"] == "system":
            continue
        upto = _render(tokenizer, msgs[: k + 1], add_generation_prompt=msgs[k]["role"] == "user")
        if not upto.startswith(done):
            raise TrainDataError(f"record {example.id}: the chat template does not render turn by turn")
        piece = tokenize_with_modal(upto[len(done):], tokenizer, modal)
        ids.append(piece)
        labels.append(piece.clone() if msgs[k]["role"] == "assistant" else torch.full_like(piece, IGNORE_INDEX))
        done = upto
    input_ids, label_ids = torch.cat(ids)[:max_length], torch.cat(labels)[:max_length]
    return input_ids, label_ids


class ConversationDataset(torch.utils.data.Dataset):
    """Examples -> {input_ids, labels, video (T, 3, S, S) | None}. Frames are sampled as the
    evaluation samples them (uniform `num_frames`) and decoded by harness.video."""

    def __init__(self, examples: list[Example], tokenizer: Any, processor: Any, model_type: str,
                 max_length: int = 2048, shuffle_answers_seed: int | None = None, cache_frames: bool = False):
        self.examples = examples
        # Small synthetic sets trained for many epochs: keep each item (the decoded, processed clip
        # and the tokenized conversation: the chat template is rendered turn by turn, ~2 ms a record)
        # in memory (per process: use with dataloader_num_workers 0 or persistent workers).
        self.cache: dict[int, dict[str, Any]] | None = {} if cache_frames else None
        self.tokenizer, self.processor, self.model_type, self.max_length = tokenizer, processor, model_type, max_length
        if shuffle_answers_seed is not None:
            self.examples = shuffled_answers(examples, shuffle_answers_seed)

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, i: int) -> dict[str, Any]:
        from harness.video import read_frames

        if self.cache is not None and i in self.cache:
            return self.cache[i]
        ex = self.examples[i]
        input_ids, labels = encode(ex, self.tokenizer, self.model_type, self.max_length)
        video = None
        if ex.media is not None:
            try:
                frames = read_frames(ex.media, FramePolicy("uniform", self.processor.num_frames))
            except Exception as e:
                raise TrainDataError(f"record {ex.id}: cannot decode {ex.media.path}: {e}") from e
            video = self.processor(frames.array, ex.modal)
        item = {"input_ids": input_ids, "labels": labels, "video": video}
        if self.cache is not None:
            self.cache[i] = item
        return item


def shuffled_answers(examples: list[Example], seed: int) -> list[Example]:
    """A deliberately broken copy for testing the gate: the assistant turns are permuted across
    records, so answers no longer belong to their videos."""
    answers = [m["content"] for ex in examples for m in ex.messages if m["role"] == "assistant"]
    random.Random(seed).shuffle(answers)
    it = iter(answers)
    out = []
    for ex in examples:
        msgs = [dict(m, content=next(it)) if m["role"] == "assistant" else m for m in ex.messages]
        out.append(Example(ex.id, ex.modal, ex.media, msgs))
    return out


def collate(batch: list[dict[str, Any]]) -> dict[str, Any]:
    """Lists, not padded tensors: the model splices video features in and pads after that."""
    return {"input_ids": [b["input_ids"] for b in batch], "labels": [b["labels"] for b in batch],
            "videos": [b["video"] for b in batch]}
