"""Synthetic scenes whose answers are known: coloured shapes moving over a dark, noisy background.

Used by every task's demo set and for training data. Deterministic: the same SceneSpec gives the
same frames (numpy's PCG64 stream is stable across versions). Sized for tiny vision models: at 64 px
a shape is 14 px wide, shapes sit in separate cells of a 2x2 grid (always >= 5 px apart, so blobs
are countable), and the group travels about 40% of the frame.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

COLORS = ["red", "green", "blue", "yellow"]
RGB: dict[str, tuple[int, int, int]] = {
    "red": (230, 30, 30),
    "green": (30, 200, 40),
    "blue": (40, 80, 240),
    "yellow": (240, 220, 30),
}
SHAPES = ["circle", "square", "triangle"]
DIRECTIONS = ["left", "right", "up", "down"]
BACKGROUND = (22, 22, 28)
NOISE = 6  # +- per channel, fresh each frame: plain enough to never look like a shape


@dataclass(frozen=True)
class SceneSpec:
    """`count` identical shapes of one colour moving in `direction`. `change_to`: they turn that
    colour halfway through. `appear`: they are only drawn in the second half. `seed`: layout, start
    offset and background noise."""

    color: str
    shape: str
    count: int
    direction: str
    change_to: str | None = None
    appear: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        for name, value, allowed in (("color", self.color, COLORS), ("shape", self.shape, SHAPES),
                                     ("direction", self.direction, DIRECTIONS)):
            if value not in allowed:
                raise ValueError(f"SceneSpec.{name} {value!r} is not one of {allowed}")
        if not 1 <= self.count <= 4:
            raise ValueError(f"SceneSpec.count {self.count} is not in 1..4")
        if self.change_to is not None and (self.change_to not in COLORS or self.change_to == self.color):
            raise ValueError(f"SceneSpec.change_to {self.change_to!r} must be another of {COLORS}")
        if self.change_to is not None and self.appear:
            # Shapes that appear already changed never show their first colour: no true answer.
            raise ValueError("SceneSpec: change_to and appear cannot both be set")


def random_scene(rng: random.Random) -> SceneSpec:
    """A random plain scene (no change, no appearance); callers add those with dataclasses.replace."""
    return SceneSpec(color=rng.choice(COLORS), shape=rng.choice(SHAPES), count=rng.randint(1, 4),
                     direction=rng.choice(DIRECTIONS), seed=rng.randrange(2**31))


def _mask(shape: str, s: int) -> np.ndarray:
    """(s, s) bool mask of a shape filling an s x s box."""
    yy, xx = np.mgrid[0:s, 0:s] + 0.5
    if shape == "square":
        return np.ones((s, s), bool)
    if shape == "circle":
        return (yy - s / 2) ** 2 + (xx - s / 2) ** 2 <= (s / 2) ** 2
    # Triangle pointing up: the half-width grows linearly from the apex to the base.
    return np.abs(xx - s / 2) <= yy / 2


def render_frames(spec: SceneSpec, *, size: int = 64, fps: int = 8, seconds: float = 2.0) -> np.ndarray:
    """(T, size, size, 3) uint8 RGB frames, T = round(fps * seconds)."""
    if size < 32 or size % 2:
        raise ValueError(f"size {size} must be even and >= 32 (yuv420p halves chroma; shapes need room)")
    n = max(1, round(fps * seconds))
    rng = np.random.default_rng(spec.seed)
    s = max(10, round(size * 0.22))  # shape side
    gap = max(5, round(size * 0.08))
    block = 2 * s + gap  # the 2x2 grid the shapes sit in
    margin = max(2, size // 32)
    cells = rng.permutation(4)[: spec.count]
    offsets = [(int(c) // 2 * (s + gap), int(c) % 2 * (s + gap)) for c in cells]  # (dy, dx) in block
    travel = size - block - 2 * margin
    across = margin + rng.integers(0, travel + 1)  # position on the axis it does not move along
    mask = _mask(spec.shape, s)
    frames = np.empty((n, size, size, 3), np.uint8)
    for t in range(n):
        along = margin + round(travel * t / max(1, n - 1))  # 0 -> travel over the clip
        if spec.direction in ("left", "up"):
            along = size - block - along
        y0, x0 = (across, along) if spec.direction in ("left", "right") else (along, across)
        second_half = t / fps >= seconds / 2
        canvas = np.empty((size, size, 3), np.int16)
        canvas[:] = BACKGROUND
        if not (spec.appear and not second_half):
            color = RGB[spec.change_to if spec.change_to and second_half else spec.color]
            for dy, dx in offsets:
                canvas[y0 + dy: y0 + dy + s, x0 + dx: x0 + dx + s][mask] = color
        canvas += rng.integers(-NOISE, NOISE + 1, size=canvas.shape, dtype=np.int16)
        frames[t] = np.clip(canvas, 0, 255)
    return frames


def write_mp4(spec: SceneSpec, path: str | Path, *, size: int = 64, fps: int = 8, seconds: float = 2.0) -> None:
    """H.264 (mpeg4 where libx264 is missing), yuv420p, constant `fps`."""
    frames = render_frames(spec, size=size, fps=fps, seconds=seconds)
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream(codec, rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = size, size, "yuv420p"
        # One thread keeps the bytes reproducible and is faster than threading a 64 px clip.
        stream.codec_context.thread_count = 1
        if codec == "libx264":
            # mbtree=0: x264's macroblock-tree rate control reads buffers left over from earlier
            # encodes, so with it the same clip encoded later in a process came out different (5-7%
            # of a 3,000-clip training set differed between two builds, and so did the model trained
            # on it); without it every clip is the same bytes in any process and any order.
            stream.options = {"preset": "veryfast", "crf": "16", "x264-params": "mbtree=0"}
        else:
            stream.codec_context.bit_rate = 2_000_000
        for array in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")))
        out.mux(stream.encode())


def write_gif(spec: SceneSpec, path: str | Path, *, size: int = 64, fps: int = 8, seconds: float = 2.0) -> None:
    """Animated gif, looping; frame delays are whole centiseconds (gif's unit), so 8 fps is 120 ms."""
    # Fast octree palettes: ~10x faster than PIL's default median cut, colours within a few levels.
    frames = [Image.fromarray(a).quantize(255, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
              for a in render_frames(spec, size=size, fps=fps, seconds=seconds)]
    frames[0].save(str(path), save_all=True, append_images=frames[1:], duration=round(1000 / fps), loop=0,
                   optimize=False)


def write_frame_folder(spec: SceneSpec, folder: str | Path, *, fps: int = 3, size: int = 64,
                       seconds: float = 2.0) -> None:
    """00001.jpg, 00002.jpg, ... sampled at `fps` (MVBench's tvqa frame folders are 3 fps)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for i, array in enumerate(render_frames(spec, size=size, fps=fps, seconds=seconds), start=1):
        Image.fromarray(array).save(folder / f"{i:05d}.jpg", quality=95)
