"""Frames -> pixel tensors as the official processor does: pad to square with the mean colour,
resize to the tower's size (bicubic), CLIP/SigLIP normalisation. Decoding is harness.video's job."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image


def pad_to_square(img: Image.Image, fill: tuple[int, int, int]) -> Image.Image:
    w, h = img.size
    if w == h:
        return img
    side = max(w, h)
    canvas = Image.new("RGB", (side, side), fill)
    canvas.paste(img, ((side - w) // 2, (side - h) // 2))
    return canvas


def preprocess_frames(frames: np.ndarray, size: int, mean: tuple[float, ...], std: tuple[float, ...],
                      aspect: str = "pad", num_frames: int | None = None) -> torch.Tensor:
    """(T, H, W, 3) uint8 -> (T', 3, size, size) float. An image (T=1) is repeated to num_frames,
    as the official code expands images for video models."""
    fill = tuple(int(round(m * 255)) for m in mean)
    out = []
    for f in frames:
        img = Image.fromarray(f)
        if aspect == "pad":
            img = pad_to_square(img, fill)  # type: ignore[arg-type]
        else:  # resize shortest side then centre crop, as the CLIP processor does
            w, h = img.size
            s = size / min(w, h)
            img = img.resize((max(size, round(w * s)), max(size, round(h * s))), Image.BICUBIC)
            w, h = img.size
            img = img.crop(((w - size) // 2, (h - size) // 2, (w - size) // 2 + size, (h - size) // 2 + size))
        img = img.resize((size, size), Image.BICUBIC)
        out.append(np.asarray(img, dtype=np.float32) / 255.0)
    arr = (np.stack(out) - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)  # (T, S, S, 3)
    tensor = torch.from_numpy(arr).permute(0, 3, 1, 2).contiguous()  # (T, 3, S, S)
    if num_frames and tensor.shape[0] == 1:
        tensor = tensor.expand(num_frames, -1, -1, -1).contiguous()
    return tensor
