"""Frame selection against the official `process_video` / `frame_sample`, for every golden case.

What this proves, over the 1224 cases of golden/frame_indices.json:
- video files (972 cases: frame counts 1..1000, six frame rates, nine clip bounds including
  reversed, equal, negative and out-of-range ones, 8 and 16 frames): `sample_indices` returns the
  indices the official code passed to `VideoReader.get_batch`, and raises VideoError exactly where
  the official code raised (an empty clip);
- frame folders (180 cases): real folders of tiny jpgs with the golden file names (unpadded
  `1.jpg..N.jpg`, whose name order is not numeric, and zero-padded), read by `read_frames`; each
  returned frame is identified by its colour, so the files actually decoded must be the official
  ones, in the official order;
- gifs (72 cases): real gifs written with PIL (10x6, one solid colour per frame, as the golden
  lists), read by `read_frames`; the frames (identified by colour) are the official ones, each once
  and in gif order; the VideoLLaMA2 Processor then appends the official number of black frames
  with the official (alternately transposed) sizes, recorded by a stub image processor.

Golden data: tests/protocol/golden/frame_indices.json, from running `mm_utils.process_video` of
DAMO-NLP-SG/VideoLLaMA2 @ c0bb03a with a fake VideoReader, real folders and real gifs (see
golden/README.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from harness.errors import VideoError
from harness.models.videollama2.processor import Processor
from harness.types import FramePolicy, MediaRef
from harness.video import FOLDER_FPS, GIF_FPS, read_frames, sample_indices

from ._golden import cases, golden, report

FRAMES = cases("frame_indices.json")
VIDEO = [c for c in FRAMES if c["kind"] == "video"]
FOLDERS = [c for c in FRAMES if c["kind"] == "frames"]
GIFS = [c for c in FRAMES if c["kind"] == "gif"]


def _label(c: dict[str, Any]) -> str:
    naming = f" {c['naming']}" if c.get("naming") else ""
    return f"{c['kind']}{naming} n={c['n']} fps={c['fps']:g} s={c['s']} e={c['e']} T={c['num_frames']}"


class RecordingImageProcessor:
    """Stands in for the CLIP/SigLIP processor: records the PIL images it is given."""

    image_mean = (0.5, 0.5, 0.5)

    def __init__(self) -> None:
        self.calls: list[list[Image.Image]] = []

    def preprocess(self, images: list[Image.Image], return_tensors: str = "pt") -> dict[str, torch.Tensor]:
        self.calls.append(list(images))
        return {"pixel_values": torch.zeros(len(images), 3, 1, 1)}


def test_golden_counts() -> None:
    assert (len(VIDEO), len(FOLDERS), len(GIFS)) == (972, 180, 72)
    assert {c["fps"] for c in FOLDERS} == {FOLDER_FPS} and {c["fps"] for c in GIFS} == {GIF_FPS}


# -- video files ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("num_frames", [8, 16], ids=["T8", "T16"])
def test_video_indices(num_frames: int) -> None:
    mine = [c for c in VIDEO if c["num_frames"] == num_frames]
    bad = []
    for c in mine:
        policy = FramePolicy("uniform", num_frames)
        try:
            got: Any = sample_indices(policy, c["n"], c["fps"], c["s"], c["e"])
        except VideoError as e:
            got = f"VideoError({e})"
        want = f"{c['error']}" if c.get("error") else c["indices"]
        if c.get("error"):
            if not (isinstance(got, str) and got.startswith("VideoError")):
                bad.append(f"{_label(c)}: official raised {c['error']} ({c['message']}), ours returned {got}")
        elif got != want:
            bad.append(f"{_label(c)}: official {want}, ours {got}")
    report(bad, len(mine), f"video cases (T={num_frames})")


# -- frame folders ---------------------------------------------------------------------------------------
STEP, BASE = 22, 20  # frame number k -> colour (BASE + STEP*(k % 10), BASE + STEP*(k // 10), 128)


def _name(k: int, naming: str) -> str:
    return f"{k}.jpg" if naming == "unpadded" else f"{k:05d}.jpg"


def _colour(k: int) -> tuple[int, int, int]:
    return BASE + STEP * (k % 10), BASE + STEP * (k // 10), 128


def _number(pixel: np.ndarray) -> int:
    r, g = (round((float(v) - BASE) / STEP) for v in pixel[:2])
    return g * 10 + r


@pytest.fixture(scope="module")
def frame_folders(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, int], Path]:
    """One real folder per (naming, N): N 4x2 jpgs, file k a solid colour that encodes k."""
    root = tmp_path_factory.mktemp("frame_folders")
    out = {}
    for naming, n in sorted({(c["naming"], c["n"]) for c in FOLDERS}):
        folder = root / f"{naming}_{n}"
        folder.mkdir()
        for k in range(1, n + 1):
            Image.new("RGB", (4, 2), _colour(k)).save(folder / _name(k, naming), quality=95)
        out[(naming, n)] = folder
        listed = sorted(p.name for p in folder.iterdir())
        for c in FOLDERS:  # the golden's own listing, where it gives one
            if (c["naming"], c["n"]) == (naming, n) and c.get("file_names_sorted"):
                assert listed == c["file_names_sorted"]
    return out


@pytest.mark.parametrize("naming", ["unpadded", "zero_padded"])
def test_frame_folder_files(frame_folders: dict[tuple[str, int], Path], naming: str) -> None:
    mine = [c for c in FOLDERS if c["naming"] == naming]
    bad = []
    for c in mine:
        media = MediaRef(str(frame_folders[(naming, c["n"])]), "frames", c["s"], c["e"])  # fps: the folder default
        try:
            frames = read_frames(media, FramePolicy("uniform", c["num_frames"]))
        except VideoError as e:
            if not c.get("error"):
                bad.append(f"{_label(c)}: ours raised VideoError ({e}), official returned {c['files']}")
            continue
        if c.get("error"):
            bad.append(f"{_label(c)}: official raised {c['error']}, ours returned indices {frames.indices}")
            continue
        files = [_name(_number(f[0, 0]), naming) for f in frames.array]
        if files != c["files"]:
            bad.append(f"{_label(c)}: official {c['files']}, ours {files}")
            continue
        stub = RecordingImageProcessor()
        Processor(stub, "none", c["num_frames"])(frames.array)
        got = len(stub.calls[0])
        if got != c["returned_frames"] or got - len(frames.array) != c["padding_frames"]:
            bad.append(f"{_label(c)}: official {c['returned_frames']} frames ({c['padding_frames']} black), "
                       f"ours {got} ({got - len(frames.array)} black)")
    report(bad, len(mine), f"frame-folder cases ({naming})")


# -- gifs --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gifs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[Path, list[tuple[int, int, int]]]]:
    """One real gif per N: golden size, one solid golden colour per frame."""
    root = tmp_path_factory.mktemp("gifs")
    out = {}
    for n in sorted({c["n"] for c in GIFS}):
        spec = [c for c in GIFS if c["n"] == n]
        colours = [tuple(rgb) for rgb in spec[0]["frame_colours_rgb"]]
        size = tuple(spec[0]["gif_size_wh"])
        assert all([tuple(x) for x in c["frame_colours_rgb"]] == colours and tuple(c["gif_size_wh"]) == size
                   for c in spec)
        assert len(set(colours)) == n == len(colours)
        path = root / f"n{n}.gif"
        images = [Image.new("RGB", size, col) for col in colours]
        images[0].save(path, save_all=True, append_images=images[1:], duration=40, loop=0)
        with Image.open(path) as im:  # the written gif holds exactly the golden frames
            assert im.n_frames == n
            for k, col in enumerate(colours):
                im.seek(k)
                assert im.convert("RGB").getpixel((0, 0)) == col
        out[n] = (path, colours)
    return out


def test_gif_frames_and_padding(gifs: dict[int, tuple[Path, list[tuple[int, int, int]]]]) -> None:
    bad = []
    for c in GIFS:
        path, colours = gifs[c["n"]]
        try:
            frames = read_frames(MediaRef(str(path), "gif", c["s"], c["e"]), FramePolicy("uniform", c["num_frames"]))
        except VideoError as e:
            if not c.get("error"):
                bad.append(f"{_label(c)}: ours raised VideoError ({e}), official returned frames {c['indices']}")
            continue
        if c.get("error"):
            bad.append(f"{_label(c)}: official raised {c['error']}, ours returned indices {frames.indices}")
            continue
        by_colour = [colours.index(tuple(int(v) for v in f[0, 0])) if tuple(int(v) for v in f[0, 0]) in colours
                     else f"unknown colour {tuple(f[0, 0])}" for f in frames.array]
        if frames.indices != c["indices"] or by_colour != c["indices"]:
            bad.append(f"{_label(c)}: official frames {c['indices']}, ours indices {frames.indices}, "
                       f"decoded {by_colour}")
            continue
        if list(frames.array[0, 0, 0]) != c["frame0_rgb"] or frames.array.shape[1:3] != tuple(c["frame0_size_wh"][::-1]):
            bad.append(f"{_label(c)}: frame 0 official {c['frame0_rgb']} {c['frame0_size_wh']} (w,h), "
                       f"ours {list(frames.array[0, 0, 0])} {frames.array.shape[2:0:-1]}")
            continue
        stub = RecordingImageProcessor()
        Processor(stub, "none", c["num_frames"])(frames.array)
        images = stub.calls[0]
        pads = images[len(frames.array):]
        sizes = [list(im.size) for im in pads]
        black = all(not np.asarray(im).any() for im in pads)
        if (len(images) != c["returned_frames"] or len(pads) != c["padding_frames"]
                or sizes != c["padding_sizes_wh"] or not black):
            bad.append(f"{_label(c)}: official {c['returned_frames']} frames, {c['padding_frames']} black of sizes "
                       f"{c['padding_sizes_wh']}; ours {len(images)} frames, {len(pads)} pads of sizes {sizes}"
                       f"{'' if black else ' (not all black)'}")
    report(bad, len(GIFS), "gif cases")


def test_error_cases_are_exactly_the_empty_clips() -> None:
    """The README's count of official IndexErrors (318 video, 24 folder, 28 gif): guards the golden
    reading above, so an error case can never be skipped silently."""
    errors = {k: sum(1 for c in FRAMES if c["kind"] == k and c.get("error")) for k in ("video", "frames", "gif")}
    assert errors == {"video": 318, "frames": 24, "gif": 28}
    assert {c["error"] for c in FRAMES if c.get("error")} == {"IndexError"}
    assert golden("frame_indices.json")["source"]["commit"] == "c0bb03a"
