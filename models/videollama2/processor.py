"""Decoded frames -> the tower's pixels, as the seed's `process_video` / `process_image` make them.

Evaluation (the seed's `model_init` builds its processors with aspect_ratio=None): the tower's own
image processor alone, so CLIP resizes the short side and centre-crops, SigLIP resizes to a square.
Training (`image_aspect_ratio: "pad"` in the config) first pads each frame to a square of the
processor's mean colour, truncated to int(mean * 255) as the seed does. The image processors are
transformers' own (PIL backends), configured as the tower's preprocessor_config.json.

As process_video: a video with fewer frames than `num_frames` (a gif whose sampled indices repeat
comes back with each frame once) is followed by black frames, and at most MAX_FRAMES are kept. An
image is repeated `num_frames` times, as the model expands it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

MAX_FRAMES = 32  # the seed's MAX_FRAMES: process_video keeps the first 32 frames
ASPECTS = ("none", "pad")
CLIP_MEAN, CLIP_STD = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)
SIGLIP_MEAN, SIGLIP_STD = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)
BICUBIC = 3  # PIL.Image.BICUBIC, the towers' `resample`


def default_image_processor_config(kind: str, size: int) -> dict[str, Any]:
    """The hub preprocessor_config.json of the towers VideoLLaMA2 uses, at `size` pixels:
    openai/clip-vit-large-patch14-336 (short side, then centre crop) and
    google/siglip-so400m-patch14-384 (a square resize)."""
    if kind == "clip":
        return {"image_processor_type": "CLIPImageProcessor", "do_resize": True, "size": {"shortest_edge": size},
                "resample": BICUBIC, "do_center_crop": True, "crop_size": {"height": size, "width": size},
                "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
                "image_mean": list(CLIP_MEAN), "image_std": list(CLIP_STD), "do_convert_rgb": True}
    return {"image_processor_type": "SiglipImageProcessor", "do_resize": True, "size": {"height": size, "width": size},
            "resample": BICUBIC, "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
            "image_mean": list(SIGLIP_MEAN), "image_std": list(SIGLIP_STD)}


def build_image_processor(kind: str, size: int, config_dir: Path | None = None) -> Any:
    """transformers' PIL image processor of the tower family, from `config_dir`'s
    preprocessor_config.json when there is one, else the hub defaults above. (The PIL backends
    need no torchvision.)"""
    from transformers import CLIPImageProcessorPil, SiglipImageProcessorPil

    cls = CLIPImageProcessorPil if kind == "clip" else SiglipImageProcessorPil
    path = config_dir / "preprocessor_config.json" if config_dir else None
    config = json.loads(path.read_text()) if path and path.is_file() else default_image_processor_config(kind, size)
    return cls(**{k: v for k, v in config.items() if k not in ("image_processor_type", "feature_extractor_type",
                                                               "processor_class")})


def expand2square(img: Image.Image, fill: tuple[int, ...]) -> Image.Image:
    """The seed's padding: the image centred (offsets floored) on a square of `fill`."""
    w, h = img.size
    if w == h:
        return img
    side = max(w, h)
    canvas = Image.new(img.mode, (side, side), fill)
    canvas.paste(img, ((side - w) // 2, (side - h) // 2))
    return canvas


@dataclass
class Processor:
    """Frames -> (T, 3, S, S) pixels for one VideoLLaMA2 model (the seed's processor dict, as one object)."""

    image_processor: Any
    aspect: str  # "none" (evaluation) | "pad" (training)
    num_frames: int

    def __call__(self, frames: np.ndarray, modal: str = "video") -> torch.Tensor:
        """(T, H, W, 3) uint8 -> (T', 3, S, S) float32."""
        images = [Image.fromarray(f) for f in frames]
        if modal != "image":
            while len(images) < self.num_frames:
                # the seed's black frame: np.zeros((*last.size, 3)), i.e. width and height swapped
                images.append(Image.fromarray(np.zeros((*images[-1].size, 3), dtype=np.uint8)))
            images = images[:MAX_FRAMES]
        if self.aspect == "pad":
            fill = tuple(int(x * 255) for x in self.image_processor.image_mean)
            images = [expand2square(im, fill) for im in images]
        pixels = self.image_processor.preprocess(images, return_tensors="pt")["pixel_values"]  # (T', 3, S, S)
        if modal == "image" and self.num_frames:
            pixels = pixels.expand(self.num_frames, -1, -1, -1).contiguous()
        return pixels
