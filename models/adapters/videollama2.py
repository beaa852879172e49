"""The harness adapter over our VideoLLaMA2 stack: model args in, batched generate out."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from harness.errors import ConfigError
from harness.model import ModelAdapter, ModelDescription, check_positive_int, weights_digest
from harness.models.adapters._torch_args import TORCH_DTYPE, check_attn, check_runtime, resolve_device, resolve_dtype
from harness.types import FramePolicy, Request

DEFAULT_CHECKPOINT = Path(__file__).resolve().parents[1] / "videollama2" / "tiny_default"
ARGS = {"path", "base", "dtype", "device", "batch_size", "attn", "vision_tower", "num_frames", "aspect_ratio"}


@dataclass(frozen=True)
class Settings:
    """The model args resolved (defaults filled in), as the adapter records them in results.json."""

    path: Path
    batch_size: int
    device: str
    dtype: str
    aspect: str
    args: dict[str, Any]

    @classmethod
    def resolve(cls, args: dict[str, Any]) -> Settings:
        unknown = set(args) - ARGS
        if unknown:
            raise ConfigError(f"unknown videollama2 model args {sorted(unknown)}", hint=f"known: {sorted(ARGS)}")
        path = Path(args.get("path") or DEFAULT_CHECKPOINT)
        batch_size = check_positive_int(args.get("batch_size", 8), "videollama2 batch_size")
        device = resolve_device("videollama2", args.get("device"))
        # the seed evaluates in fp16 on the GPU
        dtype = resolve_dtype("videollama2", args.get("dtype"), device, gpu_default="fp16")
        if "num_frames" in args and args["num_frames"] is not None:
            check_positive_int(args["num_frames"], "videollama2 num_frames")
        check_attn("videollama2", args.get("attn"))
        aspect = str(args.get("aspect_ratio", "none")).lower()
        if aspect not in ("none", "pad"):
            raise ConfigError(f"videollama2 aspect_ratio={aspect!r}",
                              hint="none (the seed's evaluation: frames not padded) or pad (padded to square, as in training)")
        recorded = {"path": str(path), "dtype": dtype, "device": device, "batch_size": batch_size,
                    **{k: args[k] for k in ("base", "attn", "vision_tower", "num_frames", "aspect_ratio") if k in args}}
        return cls(path, batch_size, device, dtype, aspect, recorded)

    def fingerprint(self, num_frames: int) -> str:
        """Weights (their digest), base, dtype, frames and aspect: what changes an output."""
        return hashlib.sha256(json.dumps([weights_digest(self.path), self.args.get("base"), self.dtype, num_frames,
                                          self.aspect], default=str).encode()).hexdigest()[:16]


def _deviations(aspect: str, torch_dtype: str) -> list[str]:
    """Settings that differ from the seed's evaluation (model_init + mm_infer on a GPU)."""
    out = []
    if aspect == "pad":
        out.append("frames padded to square (aspect_ratio=pad; the seed's evaluation does not pad)")
    if torch_dtype != "float16":
        out.append(f"weights in {torch_dtype} (the seed: float16 on a GPU)")
    return out


class VideoLLaMA2Adapter(ModelAdapter):
    name = "videollama2"
    model_args: ClassVar[dict[str, str]] = {
        "path": "checkpoint folder (default: the shipped tiny model)",
        "base": "base LLM folder, for a checkpoint that holds only the connector or LoRA weights",
        "dtype": "fp16, bf16 or fp32 (default: fp16 on a GPU, as the seed; fp32 on a CPU)",
        "device": "cuda, cuda:N or cpu (default: cuda when visible)",
        "batch_size": "requests per generate call (default 8)",
        "attn": "auto, sdpa, eager or flash_attention_2",
        "vision_tower": "vision tower folder, in place of the one config.json names",
        "num_frames": "frames per video (default: the checkpoint config's num_frames)",
        "aspect_ratio": "none (the seed's evaluation) or pad (padded to square, as in training)",
    }

    def __init__(self, **args: Any):
        s = Settings.resolve(args)
        from harness.models.videollama2.api import model_init

        self.path, self.batch_size, self.args = s.path, s.batch_size, s.args
        self.model, self.processor, self.tokenizer = model_init(
            self.path, aspect=s.aspect, base=args.get("base"), dtype=s.dtype, device=s.device,
            vision_tower=args.get("vision_tower"), attn=str(args.get("attn", "auto")))
        if args.get("num_frames"):
            self.processor.num_frames = check_positive_int(args["num_frames"], "videollama2 num_frames")
        self._fp = s.fingerprint(self.processor.num_frames)

    @classmethod
    def check_args(cls, **args: Any) -> None:
        """Every arg known and in range (Settings.resolve), the checkpoint folders there, and what the
        device and attention implementation need present, before anything loads."""
        s = Settings.resolve(args)
        for key in ("path", "base", "vision_tower"):
            if args.get(key) and not Path(str(args[key])).is_dir():
                raise ConfigError(f"videollama2 {key}={args[key]}: no such directory",
                                  hint="model args name local checkpoint folders")
        check_runtime("videollama2", s.device, str(args.get("attn", "auto")))

    @classmethod
    def describe(cls, **args: Any) -> ModelDescription | None:
        """From the args and the checkpoint's config.json, without loading the weights (the
        fingerprint hashes the weight files as loading does). None when there is no config.json to
        read: loading reports what is wrong with the checkpoint."""
        s = Settings.resolve(args)
        try:
            config = json.loads((s.path / "config.json").read_text())
        except (OSError, ValueError):
            return None
        num_frames = (check_positive_int(args["num_frames"], "num_frames") if args.get("num_frames")
                      else int(config.get("num_frames", 8)))
        torch_dtype = TORCH_DTYPE.get(s.dtype, "float32")
        return ModelDescription(cls.name, s.args, f"videollama2-{s.fingerprint(num_frames)}",
                                FramePolicy("uniform", num_frames), _deviations(s.aspect, torch_dtype),
                                {"model_type": config.get("model_type"),
                                 "projector": config.get("mm_projector_type", "stc_connector"),
                                 "num_frames": num_frames, "dtype": torch_dtype},
                                s.batch_size)

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
        return _deviations(self.processor.aspect, str(self.model.dtype).replace("torch.", ""))

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
        seed = gen.pop("seed", None)  # not a generate() argument: it seeds sampling
        if seed is not None and gen.get("do_sample"):
            import torch

            torch.manual_seed(int(seed))
        return generate_batch(self.model, self.tokenizer, [r.text for r in requests], videos, modals, **gen)
