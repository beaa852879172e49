"""The harness adapter over our VideoLLaMA2 stack: model args in, batched generate out."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch

from harness.errors import ConfigError
from harness.model import ModelAdapter
from harness.types import FramePolicy, Request

DEFAULT_CHECKPOINT = Path(__file__).resolve().parents[1] / "videollama2" / "tiny_default"
ARGS = {"path", "base", "dtype", "device", "batch_size", "attn", "vision_tower", "num_frames", "aspect_ratio"}


def _weights_digest(path: Path) -> str:
    """Hash of the weight files' bytes (cheap for the tiny model; for big checkpoints, their index
    and sizes, which change whenever the weights do)."""
    h = hashlib.sha256()
    for f in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.json")):
        st = f.stat()
        h.update(f.name.encode())
        h.update(f.read_bytes() if st.st_size < (64 << 20) else f"{st.st_size}".encode())
    return h.hexdigest()[:16]


class VideoLLaMA2Adapter(ModelAdapter):
    name = "videollama2"

    def __init__(self, **args: Any):
        unknown = set(args) - ARGS
        if unknown:
            raise ConfigError(f"unknown videollama2 model args {sorted(unknown)}", hint=f"known: {sorted(ARGS)}")
        from harness.models.videollama2.api import model_init

        self.path = Path(args.get("path") or DEFAULT_CHECKPOINT)
        self.batch_size = int(args.get("batch_size", 8))
        device = str(args.get("device") or ("cuda" if torch.cuda.is_available() else "cpu"))
        # the seed evaluates in fp16 on the GPU; a CPU has no fast fp16, so fp32 there
        dtype = str(args.get("dtype") or ("fp16" if device.startswith("cuda") else "fp32"))
        aspect = str(args.get("aspect_ratio", "none")).lower()
        if aspect not in ("none", "pad"):
            raise ConfigError(f"videollama2 aspect_ratio={aspect!r}",
                              hint="none (the seed's evaluation: frames not padded) or pad (padded to square, as in training)")
        self.args = {"path": str(self.path), "dtype": dtype, "device": device, "batch_size": self.batch_size,
                     **{k: args[k] for k in ("base", "attn", "vision_tower", "num_frames", "aspect_ratio") if k in args}}
        self.model, self.processor, self.tokenizer = model_init(
            self.path, aspect=aspect, base=args.get("base"), dtype=dtype, device=device,
            vision_tower=args.get("vision_tower"), attn=str(args.get("attn", "auto")))
        if args.get("num_frames"):
            self.processor.num_frames = int(args["num_frames"])
        self._fp = hashlib.sha256(json.dumps([_weights_digest(self.path), self.args.get("base"), dtype,
                                              self.processor.num_frames, aspect], default=str).encode()).hexdigest()[:16]

    @classmethod
    def from_model(cls, model: Any, tokenizer: Any, processor: Any, tag: str) -> VideoLLaMA2Adapter:
        """An adapter over a model already in memory (train-time evaluation: no second copy).
        `tag` names the weights' state (e.g. the training step) in place of a file digest."""
        self = cls.__new__(cls)
        self.model = model.get_base_model() if hasattr(model, "get_base_model") else model  # PEFT: LoRA stays in
        self.tokenizer, self.processor = tokenizer, processor
        self.path = Path(tag)
        self.batch_size = 8
        self.args = {"path": f"<in memory: {tag}>", "dtype": str(self.model.dtype).replace("torch.", ""),
                     "device": str(self.model.device), "batch_size": self.batch_size}
        self._fp = hashlib.sha256(tag.encode()).hexdigest()[:16]
        return self

    def fingerprint(self) -> str:
        return f"videollama2-{self._fp}"

    def deviations(self) -> list[str]:
        """Settings that differ from the seed's evaluation (model_init + mm_infer on a GPU)."""
        out = []
        if self.processor.aspect == "pad":
            out.append("frames padded to square (aspect_ratio=pad; the seed's evaluation does not pad)")
        dtype = str(self.model.dtype).replace("torch.", "")
        if dtype != "float16":
            out.append(f"weights in {dtype} (the seed: float16 on a GPU)")
        return out

    def frame_policy(self) -> FramePolicy:
        return FramePolicy("uniform", self.processor.num_frames)

    def info(self) -> dict[str, Any]:
        cfg = self.model.config
        return {"model_type": cfg.model_type, "projector": cfg.mm_projector_type, "num_frames": self.processor.num_frames,
                "dtype": str(self.model.dtype).replace("torch.", ""), "device": str(self.model.device),
                "attn_implementation": cfg._attn_implementation,
                "params": sum(p.numel() for p in self.model.parameters())}

    def generate(self, requests: list[Request]) -> list[str]:
        from harness.models.videollama2.api import generate_batch

        videos, modals = [], []
        for r in requests:
            if r.frames is None or r.modal == "text":
                videos.append(None)
                modals.append("text")
            else:
                videos.append(self.processor(r.frames.array, r.modal).to(self.model.dtype))
                modals.append(r.modal)
        gen = {k: v for k, v in requests[0].gen_kwargs.items() if k != "oracle_answer"}
        return generate_batch(self.model, self.tokenizer, [r.text for r in requests], videos, modals, **gen)
