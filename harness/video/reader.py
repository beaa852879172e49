"""The only frame reader in the project: frame policy -> indices (harness.video.sampling) ->
decoded RGB frames.

Media kinds: "video" (any container FFmpeg reads; decord or PyAV, see harness.video.backends),
"frames" (a folder of images sorted by name), "gif", "image" (one frame; the model expands it).
Only the sampled frames are decoded. Every failure is a VideoError naming the file.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
from PIL import Image

from ..errors import ConfigError, HarnessError, VideoError
from ..types import FramePolicy, Frames, MediaRef
from . import backends as vb
from .sampling import sample_indices

T = TypeVar("T")
log = logging.getLogger(__name__)

# Largest frame accepted (width * height); bigger ones get a VideoError instead of an OOM.
# Override per call (`max_pixels=`) or per process (HARNESS_MAX_PIXELS).
MAX_PIXELS = int(os.environ.get("HARNESS_MAX_PIXELS") or 8192 * 8192)
IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
FOLDER_FPS = 3.0  # frame folders without a rate: the seed reads them (MVBench tvqa) at 3 fps
GIF_FPS = 25.0  # the seed reads every gif at 25 fps, whatever its frame delays say
# A read ending this many frames (or 1 s) short of the container's own frame count is a truncated
# file, not the usual off-by-a-frame metadata.
_SHORT_OK = 2
# What decoders raise on bad input (PIL raises SyntaxError for broken gifs, decord RuntimeError).
_DECODE_ERRORS = (vb.av.FFmpegError, OSError, EOFError, ValueError, SyntaxError, RuntimeError,
                  MemoryError, vb.DecodeError, Image.DecompressionBombError)


@dataclass
class VideoInfo:
    """What a media file holds: `n_frames` as the decoder counts them (the container's count, or its
    packets where it has none), `duration` in seconds."""

    n_frames: int
    fps: float
    width: int
    height: int
    duration: float


# -- per-kind probing and reading --------------------------------------------------------------------
def _frame_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise VideoError("frame folder not found", file=str(folder))
    files = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTS and not p.name.startswith(".")]
    if not files:
        raise VideoError(f"no image files ({', '.join(sorted(IMAGE_EXTS))}) in frame folder", file=str(folder))
    # Plain name order, as the seed's sorted(os.listdir()): 10.jpg before 2.jpg (real frame folders
    # are zero-padded, where both orders agree).
    return sorted(files, key=lambda p: p.name)


def _probe_kind(media: MediaRef) -> VideoInfo:
    path = Path(media.path)
    if media.kind == "frames":
        files = _frame_files(path)
        with Image.open(files[0]) as im:
            width, height = im.size
        fps = media.fps or FOLDER_FPS
        return VideoInfo(len(files), fps, width, height, len(files) / fps)
    _need_file(path)
    if media.kind == "video":
        s = vb.probe_stream(str(path))
        return VideoInfo(s.n_frames, s.fps, s.width, s.height, s.duration)
    with Image.open(path) as im:
        width, height = im.size
        if media.kind == "image":
            return VideoInfo(1, 1.0, width, height, 0.0)
        n = getattr(im, "n_frames", 1)
    fps = media.fps or GIF_FPS
    return VideoInfo(n, fps, width, height, n / fps)


def _need_file(path: Path) -> None:
    if not path.is_file():
        raise VideoError("file not found" if not path.exists() else "not a file", file=str(path))
    if path.stat().st_size == 0:
        raise VideoError("file is empty (0 bytes)", file=str(path))


def _read_images(files: list[Path], wanted: list[int]) -> dict[int, np.ndarray]:
    out: dict[int, np.ndarray] = {}
    for i in wanted:
        try:
            with Image.open(files[i]) as im:
                out[i] = np.asarray(im.convert("RGB"))
        except _DECODE_ERRORS as e:  # name the frame, not just its folder
            raise VideoError(f"cannot decode frame {files[i].name}: {e}", file=str(files[i].parent)) from e
    return out


def _read_gif(path: Path, wanted: list[int]) -> dict[int, np.ndarray]:
    out: dict[int, np.ndarray] = {}
    with Image.open(path) as im:
        for i in wanted:  # ascending: PIL composites gif frames forward from the last one seen
            im.seek(i)
            out[i] = np.asarray(im.convert("RGB"))
    return out


# -- public -----------------------------------------------------------------------------------------
def available_backends() -> list[str]:
    """Video-file decoders usable here, in the order backend="auto" tries them."""
    return (["decord"] if vb.decord_available() else []) + ["pyav"]


def probe(media: MediaRef) -> VideoInfo:
    """Frame count, rate and size from metadata (plus one decoded frame for videos). VideoError
    naming the path when the file is missing, empty or unreadable."""
    return _guard(media.path, lambda: _probe_kind(media))


def read_frames(media: MediaRef, policy: FramePolicy, backend: str = "auto", *,
                max_pixels: int | None = None) -> Frames:
    """Decode the frames `policy` samples from `media` (clipped to media.start/end): (T, H, W, 3)
    uint8 RGB at native size, with the indices read and their timestamps (index / fps, seconds)."""
    if backend not in ("auto", "decord", "pyav"):
        raise ConfigError(f"unknown video backend {backend!r}", hint="use auto, decord or pyav")
    return _guard(media.path, lambda: _read(media, policy, backend, max_pixels or MAX_PIXELS))


def _guard(path: str, fn: Callable[[], T]) -> T:
    """Run `fn`, turning decoder and file errors into a VideoError that names `path`."""
    try:
        return fn()
    except VideoError as e:
        if e.file is None:  # raised where the path was not known (index computation)
            raise VideoError(str(e), file=path, hint=e.hint) from e
        raise
    except HarnessError:
        raise
    except vb.DecodeError as e:
        raise VideoError(str(e), file=path) from e
    except _DECODE_ERRORS as e:
        raise VideoError(f"cannot decode ({type(e).__name__}): {e}", file=path) from e


def _read(media: MediaRef, policy: FramePolicy, backend: str, max_pixels: int) -> Frames:
    if media.kind not in ("video", "frames", "gif", "image"):
        raise VideoError(f"unknown media kind {media.kind!r}")
    path = Path(media.path)
    if media.kind == "video":
        _need_file(path)
        stream = vb.probe_stream(str(path), decode_first=False)  # the read itself proves decodability
        info = VideoInfo(stream.n_frames, stream.fps, stream.width, stream.height, stream.duration)
    else:
        info = _probe_kind(media)
    if info.width * info.height > max_pixels:
        raise VideoError(f"frames are {info.width}x{info.height}, over the limit of {max_pixels} pixels",
                         hint="raise max_pixels / HARNESS_MAX_PIXELS if this video is meant to be read")
    if media.kind == "image":
        with Image.open(path) as im:
            return Frames(np.asarray(im.convert("RGB"))[None], [0], [0.0])
    indices = sample_indices(policy, info.n_frames, info.fps, media.start, media.end)
    wanted = sorted(set(indices))
    if media.kind == "gif":
        # The seed keeps each sampled gif frame once, in order (its reader enumerates the gif once);
        # the model's processor pads a short result with black frames.
        indices = wanted
    if media.kind in ("frames", "gif"):
        got = _read_images(_frame_files(path), wanted) if media.kind == "frames" else _read_gif(path, wanted)
        decoded = {i: (i, a) for i, a in got.items()}
    else:
        decoded = _decode_video(str(path), wanted, info.fps, backend)
        _check_not_truncated(decoded, info)
    shapes = {a.shape for _, a in decoded.values()}
    if len(shapes) != 1:
        raise VideoError(f"frames differ in size: {sorted(shapes)}")
    actual = [decoded[i][0] for i in indices]
    array = np.stack([decoded[i][1] for i in indices])  # (T, H, W, 3)
    return Frames(array, actual, [i / info.fps for i in actual], info.n_frames, info.fps)


def _decode_video(path: str, wanted: list[int], fps: float, backend: str) -> vb.Decoded:
    order = available_backends() if backend == "auto" else [backend]
    if backend == "decord" and not vb.decord_available():
        raise ConfigError("video backend decord is not installed", hint="pip install decord, or use pyav")
    for name in order[:-1]:  # auto: decord first; any failure of it falls through to PyAV
        try:
            return vb.read_decord(path, wanted, fps)
        except Exception as e:  # noqa: BLE001 - native library, assorted error types; PyAV has the last word
            log.debug("decord failed on %s (%s); reading with PyAV", path, e)
    return (vb.read_decord if order[-1] == "decord" else vb.read_pyav)(path, wanted, fps)


def _check_not_truncated(decoded: vb.Decoded, info: VideoInfo) -> None:
    short = max(req - got for req, (got, _) in decoded.items())
    if short > max(_SHORT_OK, info.fps):
        last = max(got for got, _ in decoded.values())
        raise VideoError(f"truncated or corrupt: frames stop at index {last} but the container lists "
                         f"{info.n_frames}")
