"""Which frames a frame policy picks: the clip's first and last frame (`clip_span`), the seed's
uniform rule, and `sample_indices` for both policy modes (uniform:N, fps:F). Pure index arithmetic:
no file is opened here (harness.video.reader decodes what these pick)."""

from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigError, VideoError
from ..types import FramePolicy


def clip_span(n_frames: int, fps: float, start: float | None, end: float | None) -> tuple[int, int]:
    """First and last frame index of the clip, by the seed's process_video: with both bounds given,
    negative ones become 0, bounds given backwards are swapped and an empty clip [s, s] becomes
    [s, s + 1]; the first frame is max(int(s * fps) - 1, 0), the last min(int(e * fps) - 1, n - 1)."""
    if n_frames <= 0:
        raise VideoError("video has no frames")
    if not (math.isfinite(fps) and fps > 0):
        raise VideoError(f"video has no usable frame rate ({fps})")
    s, e = start, end
    if s is not None and e is not None:
        s, e = max(s, 0.0), max(e, 0.0)
        if s > e:
            s, e = e, s
        elif s == e:
            e = s + 1
    first = 0 if s is None else max(int(s * fps) - 1, 0)
    last = n_frames - 1 if e is None else min(int(e * fps) - 1, n_frames - 1)
    if last < first:
        raise VideoError(f"clip {start}s-{end}s holds no frame of the video ({n_frames} frames at {fps:g} fps)")
    return first, last


def _uniform(first: int, last: int, n: int) -> list[int]:
    """The seed's frame_sample(mode="uniform"): the middle of n equal segments of the span's
    duration - 1 frames, np.round(x + 1e-6); repeats when n exceeds the span. Computed as the seed
    computes it, so the floating-point ties land on the same side."""
    seg = float(last - first) / n  # (duration - 1) / n
    mids = np.array([(seg * i + seg * (i + 1)) / 2 for i in range(n)])
    return [first + int(k) for k in np.round(mids + 1e-6).astype(int)]


def sample_indices(policy: FramePolicy, n_frames: int, fps: float,
                   start: float | None = None, end: float | None = None) -> list[int]:
    """Frame indices a policy picks from a video of `n_frames` at `fps`, clipped to [start, end] s.
    Always `policy.n` indices in uniform mode (batch shapes stay fixed), repeating if needed."""
    first, last = clip_span(n_frames, fps, start, end)
    if policy.mode == "uniform":
        if policy.n < 1:
            raise ConfigError(f"frame policy {policy} asks for {policy.n} frames", hint="use uniform:N with N >= 1")
        return _uniform(first, last, policy.n)
    if policy.mode == "fps":
        lo, hi = max(1, policy.min_frames), policy.max_frames
        if not policy.fps or policy.fps <= 0 or hi < lo:
            raise ConfigError(f"bad frame policy {policy}", hint="fps:F with F > 0 and min <= max")
        step = fps / policy.fps  # frames between samples
        count = int((last - first + 1) / step + 1e-9)  # whole 1/F-second slots in the span
        if count < lo or count > hi:
            return _uniform(first, last, min(max(count, lo), hi))
        return [first + int((k + 0.5) * step) for k in range(count)]  # the middle of each slot
    raise ConfigError(f"unknown frame policy mode {policy.mode!r}", hint="use uniform:N or fps:F")
