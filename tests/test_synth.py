"""harness.synth: the facts a scene states are in its pixels, and survive encoding and decoding."""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections import deque
from pathlib import Path

import numpy as np
import pytest

from harness import synth, video
from harness.types import FramePolicy, MediaRef


# -- reading facts back from pixels -----------------------------------------------------------------
def shape_mask(frame: np.ndarray) -> np.ndarray:
    """Pixels far from the dark background: every scene colour has a channel over 190."""
    return frame.max(axis=2) > 120


def blobs(mask: np.ndarray, min_size: int = 20) -> list[list[tuple[int, int]]]:
    """4-connected components (breadth-first flood fill), ignoring specks under min_size pixels."""
    seen = np.zeros_like(mask)
    out = []
    for y, x in zip(*np.nonzero(mask), strict=True):
        if seen[y, x]:
            continue
        seen[y, x] = True
        queue, blob = deque([(y, x)]), []
        while queue:
            cy, cx = queue.popleft()
            blob.append((cy, cx))
            for ny, nx in ((cy + 1, cx), (cy - 1, cx), (cy, cx + 1), (cy, cx - 1)):
                if 0 <= ny < mask.shape[0] and 0 <= nx < mask.shape[1] and mask[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    queue.append((ny, nx))
        if len(blob) >= min_size:
            out.append(blob)
    return out


def colour_of(frame: np.ndarray) -> str:
    mean = frame[shape_mask(frame)].mean(axis=0)
    return min(synth.RGB, key=lambda c: float(np.sum((np.array(synth.RGB[c]) - mean) ** 2)))


def shape_of(blob: list[tuple[int, int]]) -> str:
    """Fill ratio of the bounding box: square ~1, circle ~pi/4, triangle ~1/2. After yuv420p (chroma at
    half resolution) a blue or red triangle's mask gains edge pixels: measured 0.54-0.65 for
    triangles, 0.80-0.84 for circles, so the line sits between them."""
    ys, xs = zip(*blob, strict=True)
    fill = len(blob) / ((max(ys) - min(ys) + 1) * (max(xs) - min(xs) + 1))
    return "square" if fill > 0.9 else "circle" if fill > 0.72 else "triangle"


def direction_of(first: np.ndarray, last: np.ndarray) -> tuple[str, float]:
    (y0, x0), (y1, x1) = (np.argwhere(shape_mask(f)).mean(axis=0) for f in (first, last))
    dy, dx = y1 - y0, x1 - x0
    if abs(dx) > abs(dy):
        return ("right" if dx > 0 else "left"), abs(dx)
    return ("down" if dy > 0 else "up"), abs(dy)


def facts(frames: np.ndarray) -> dict[str, object]:
    """What a viewer can tell from the first and last frame."""
    first, last = frames[0], frames[-1]
    found = blobs(shape_mask(last))
    direction, distance = direction_of(first, last)
    return {"color": colour_of(last), "count": len(found), "shapes": {shape_of(b) for b in found},
            "direction": direction, "distance": distance, "sizes": [len(b) for b in found]}


# -- tests ------------------------------------------------------------------------------------------
def test_every_combination_is_recoverable_from_pixels() -> None:
    size = 64
    for i, (color, shape, count, direction) in enumerate(
            itertools.product(synth.COLORS, synth.SHAPES, range(1, 5), synth.DIRECTIONS)):
        spec = synth.SceneSpec(color, shape, count, direction, seed=i)
        frames = synth.render_frames(spec, size=size)
        assert frames.shape == (16, size, size, 3) and frames.dtype == np.uint8
        got = facts(frames)
        assert (got["color"], got["count"], got["shapes"], got["direction"]) == (color, count, {shape}, direction), spec
        assert got["distance"] >= 0.35 * size, spec  # clearly visible motion
        assert min(got["sizes"]) >= 0.45 * 14 * 14, spec  # shapes stay big (14 px boxes at 64 px)


def test_background_is_dark_and_plain() -> None:
    frames = synth.render_frames(synth.SceneSpec("red", "circle", 1, "left", appear=True, seed=5))
    empty = frames[: len(frames) // 2]
    assert not shape_mask(empty).any()
    assert empty.mean() < 40 and empty.std() < 6


def test_state_change_happens_at_halfway() -> None:
    spec = synth.SceneSpec("blue", "square", 2, "up", change_to="yellow", seed=1)
    frames = synth.render_frames(spec, fps=8, seconds=2.0)
    assert [colour_of(f) for f in frames] == ["blue"] * 8 + ["yellow"] * 8


def test_appear_draws_shapes_only_in_the_second_half() -> None:
    frames = synth.render_frames(synth.SceneSpec("green", "triangle", 3, "right", appear=True, seed=2))
    visible = [bool(shape_mask(f).any()) for f in frames]
    assert visible == [False] * 8 + [True] * 8
    assert len(blobs(shape_mask(frames[-1]))) == 3


def test_deterministic_per_seed() -> None:
    spec = synth.SceneSpec("red", "circle", 3, "down", seed=7)
    assert np.array_equal(synth.render_frames(spec), synth.render_frames(spec))
    other = synth.render_frames(dataclasses.replace(spec, seed=8))
    assert not np.array_equal(synth.render_frames(spec), other)
    assert facts(other)["count"] == 3  # the seed moves things around, never changes the facts


def test_random_scene_is_reproducible_and_covers_the_space() -> None:
    a = [synth.random_scene(random.Random(3)) for _ in range(2)]
    assert a[0] == a[1]
    scenes = [synth.random_scene(random.Random(i)) for i in range(300)]
    assert {s.color for s in scenes} == set(synth.COLORS)
    assert {s.shape for s in scenes} == set(synth.SHAPES)
    assert {s.direction for s in scenes} == set(synth.DIRECTIONS)
    assert {s.count for s in scenes} == {1, 2, 3, 4}
    assert all(s.change_to is None and not s.appear for s in scenes)


@pytest.mark.parametrize("kwargs", [{"color": "purple"}, {"shape": "star"}, {"direction": "spin"},
                                    {"count": 0}, {"count": 5}, {"change_to": "red"},
                                    {"change_to": "green", "appear": True}])
def test_invalid_specs_are_refused(kwargs: dict[str, object]) -> None:
    base: dict[str, object] = {"color": "red", "shape": "circle", "count": 1, "direction": "left"}
    with pytest.raises(ValueError):
        synth.SceneSpec(**(base | kwargs))  # type: ignore[arg-type]


def test_mp4_round_trip_keeps_the_facts(tmp_path: Path) -> None:
    """After yuv420p H.264 and decoding through harness.video: the same answers."""
    rng = random.Random(11)
    for i in range(12):
        spec = dataclasses.replace(synth.random_scene(rng), color=synth.COLORS[i % 4], shape=synth.SHAPES[i % 3],
                                   count=i % 4 + 1, direction=synth.DIRECTIONS[i // 3 % 4])
        path = tmp_path / f"{i}.mp4"
        synth.write_mp4(spec, path)
        info = video.probe(MediaRef(str(path)))
        assert (info.n_frames, info.fps, info.width, info.height) == (16, 8.0, 64, 64)
        frames = video.read_frames(MediaRef(str(path)), FramePolicy(n=16))
        assert frames.indices == list(range(16))
        got = facts(frames.array)
        assert (got["color"], got["count"], got["shapes"], got["direction"]) == (
            spec.color, spec.count, {spec.shape}, spec.direction), spec


def test_mp4_is_reproducible(tmp_path: Path) -> None:
    spec = synth.SceneSpec("yellow", "triangle", 4, "left", change_to="red", seed=3)
    synth.write_mp4(spec, tmp_path / "a.mp4")
    synth.write_mp4(spec, tmp_path / "b.mp4")
    assert (tmp_path / "a.mp4").read_bytes() == (tmp_path / "b.mp4").read_bytes()


def test_mp4_bytes_do_not_depend_on_what_was_encoded_before(tmp_path: Path) -> None:
    """The training set is encoded clip after clip in one process: each clip's bytes must be the
    same in any order (with x264's mbtree, about 1 clip in 12 came out different the second time)."""
    rng = random.Random(7)
    specs = []
    for _ in range(40):
        spec = synth.random_scene(rng)
        change = rng.choice([None, *[c for c in synth.COLORS if c != spec.color]])
        specs.append(dataclasses.replace(spec, change_to=change, appear=change is None and rng.random() < 0.5))
    first = []
    for i, spec in enumerate(specs):
        synth.write_mp4(spec, tmp_path / f"a{i}.mp4")
        first.append((tmp_path / f"a{i}.mp4").read_bytes())
    for i, spec in reversed(list(enumerate(specs))):
        synth.write_mp4(spec, tmp_path / f"b{i}.mp4")
        assert (tmp_path / f"b{i}.mp4").read_bytes() == first[i], f"clip {i}"


def test_gif_and_frame_folder_round_trip(tmp_path: Path) -> None:
    spec = synth.SceneSpec("green", "square", 2, "down", change_to="blue", seed=4)
    synth.write_gif(spec, tmp_path / "a.gif", seconds=2.0)
    gif = video.read_frames(MediaRef(str(tmp_path / "a.gif"), kind="gif"), FramePolicy(n=16))
    assert gif.indices == list(range(16))
    assert np.abs(gif.array.astype(int) - synth.render_frames(spec)).max() <= 12  # palette rounding only
    synth.write_frame_folder(spec, tmp_path / "f", fps=3, seconds=3.0)
    names = sorted(p.name for p in (tmp_path / "f").iterdir())
    assert names == [f"{i:05d}.jpg" for i in range(1, 10)]
    media = MediaRef(str(tmp_path / "f"), kind="frames", fps=3)
    assert video.probe(media).n_frames == 9
    frames = video.read_frames(media, FramePolicy(n=9)).array
    # Halfway (1.5 s) at 3 fps: frames 0..4 before the change, 5..8 after.
    assert [colour_of(f) for f in frames] == ["green"] * 5 + ["blue"] * 4
    # The demo's clip questions: [0, 1.2) s and [1.8, 3.0) s see only one colour each.
    before = video.read_frames(dataclasses.replace(media, start=0.0, end=1.2), FramePolicy(n=4)).array
    after = video.read_frames(dataclasses.replace(media, start=1.8, end=3.0), FramePolicy(n=4)).array
    assert {colour_of(f) for f in before} == {"green"} and {colour_of(f) for f in after} == {"blue"}


def test_other_sizes_and_rates() -> None:
    frames = synth.render_frames(synth.SceneSpec("red", "circle", 4, "right"), size=112, fps=4, seconds=3.0)
    assert frames.shape == (12, 112, 112, 3)
    got = facts(frames)
    assert (got["count"], got["direction"]) == (4, "right")
    with pytest.raises(ValueError):
        synth.render_frames(synth.SceneSpec("red", "circle", 1, "right"), size=63)
