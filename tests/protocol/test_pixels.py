"""Pixels: real video -> our frames -> our VideoLLaMA2 Processor, against the official tensors.

What this proves, for the 5 cases of golden/pixels.json (CLIP-L/336 and SigLIP-so400m/384 on two
real videos, and CLIP with aspect_ratio='pad'), with every video backend installed here:
- `read_frames(uniform 4)` samples the official frame indices;
- `Processor(build_image_processor(kind, size, <dir with the golden preprocessor_config.json>),
  aspect, 4)` gives the official float tensor's shape, and its values recovered to uint8
  (round((x * std + mean) * 255)) are within 1/255 of the official ones (the measured maximum per
  case and backend is printed at the end of the run);
- the built-in hub defaults (no config dir) give exactly the pixels of the golden configs.

Golden data: tests/protocol/golden/pixels.json + pixels_*.npz (and the two
*.preprocessor_config.json files), from running `mm_utils.process_video` of
DAMO-NLP-SG/VideoLLaMA2 @ c0bb03a with real decord decoding and real CLIP/SigLIP image processors
(see golden/README.md). Videos: tests/data/real/videos (the golden's `video_fixture` files).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from harness.models.videollama2.processor import Processor, build_image_processor
from harness.types import FramePolicy, Frames, MediaRef
from harness.video import available_backends, read_frames

from ._golden import GOLDEN, PIXEL_DIFFS, REPO, cases, golden

PIXELS = cases("pixels.json")
VIDEOS = REPO / "tests" / "data" / "real" / "videos"
TOLERANCE = 1  # uint8 levels: 1/255
BACKENDS = available_backends()  # decord (where installed) and pyav


def _case_id(c: dict[str, Any]) -> str:
    return Path(c["file"]).stem.removeprefix("pixels_")


@pytest.fixture(scope="module")
def config_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Per golden preprocessor config: a folder holding it as preprocessor_config.json (as the
    official encoder's from_pretrained reads it)."""
    out = {}
    for name in {c["preprocessor_config"] for c in PIXELS}:
        d = tmp_path_factory.mktemp(name.split(".")[0])
        shutil.copyfile(GOLDEN / name, d / "preprocessor_config.json")
        out[name] = d
    return out


@pytest.fixture(scope="module")
def decoded() -> dict[tuple[str, str], Frames]:
    """(video, backend) -> the 4 uniformly sampled frames, decoded once."""
    return {}


def _frames(decoded: dict[tuple[str, str], Frames], video: str, backend: str) -> Frames:
    key = (video, backend)
    if key not in decoded:
        decoded[key] = read_frames(MediaRef(str(VIDEOS / video), "video"), FramePolicy("uniform", 4), backend=backend)
    return decoded[key]


def _processor(c: dict[str, Any], config_dir: Path | None) -> Processor:
    size = c["shape"][-1]
    return Processor(build_image_processor(c["processor"], size, config_dir),
                     "pad" if c["aspect_ratio"] == "pad" else "none", c["num_frames"])


def _to_uint8(x: torch.Tensor, c: dict[str, Any]) -> np.ndarray:
    mean = torch.tensor(c["image_mean"], dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(c["image_std"], dtype=torch.float32).view(1, 3, 1, 1)
    return torch.round((x.float() * std + mean) * 255).to(torch.int32).numpy()


def test_golden_videos_are_the_repository_fixtures() -> None:
    for c in PIXELS:
        assert c["video_fixture"] == f"fixtures/real/videos/{c['video']}"
        assert (VIDEOS / c["video"]).is_file()
    assert golden("pixels.json")["source"]["commit"] == "c0bb03a"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("c", PIXELS, ids=_case_id)
def test_pixels_match_official(c: dict[str, Any], backend: str, config_dirs: dict[str, Path],
                               decoded: dict[tuple[str, str], Frames]) -> None:
    frames = _frames(decoded, c["video"], backend)
    assert frames.indices == c["sampled_frame_indices"]
    assert (frames.video_frames, frames.fps) == (c["decord_len"], c["decord_avg_fps"])
    x = _processor(c, config_dirs[c["preprocessor_config"]])(frames.array)
    assert tuple(x.shape) == tuple(c["shape"]) and x.dtype == torch.float32
    with np.load(GOLDEN / c["file"]) as npz:
        want, indices = npz["u"].astype(np.int32), npz["indices"].tolist()
    assert indices == c["sampled_frame_indices"]
    got = _to_uint8(x, c)
    diff = int(np.abs(got - want).max())
    PIXEL_DIFFS[(c["file"], backend)] = diff
    assert diff <= TOLERANCE, (f"{c['file']} ({backend}): max |u_ours - u_official| = {diff} > {TOLERANCE}; "
                               f"{int((np.abs(got - want) > TOLERANCE).sum())} of {want.size} values off")


@pytest.mark.parametrize("c", PIXELS, ids=_case_id)
def test_builtin_defaults_equal_the_golden_configs(c: dict[str, Any], config_dirs: dict[str, Path],
                                                   decoded: dict[tuple[str, str], Frames]) -> None:
    """build_image_processor without a config folder (the hub defaults written in the harness)
    must process exactly like the published preprocessor_config.json."""
    frames = _frames(decoded, c["video"], BACKENDS[0])
    from_file = _processor(c, config_dirs[c["preprocessor_config"]])(frames.array)
    builtin = _processor(c, None)(frames.array)
    assert torch.equal(from_file, builtin)
    ip = build_image_processor(c["processor"], c["shape"][-1], None)
    assert list(ip.image_mean) == c["image_mean"] and list(ip.image_std) == c["image_std"]
