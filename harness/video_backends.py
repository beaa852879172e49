"""Decoders for encoded video files, used only by harness.video.

PyAV is always there; decord is used when installed. Both take sorted, unique frame indices and
return, for each, the index of the frame actually decoded and its RGB array: a request past the
real end of the stream gets the last decodable frame (harness.video decides whether that gap is
small enough to be metadata noise or a truncated file).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

Decoded = dict[int, tuple[int, np.ndarray]]  # requested index -> (index decoded, (H, W, 3) uint8)


class DecodeError(Exception):
    """A decoder failed on the file (decord's own error type, re-raised as one harness.video knows)."""


class NoFrames(DecodeError):
    """The stream opened but no frame could be decoded (empty or truncated before the first)."""


@dataclass
class StreamInfo:
    """What the container says about its first video stream. `exact`: n_frames is the container's
    own frame count; otherwise it was estimated from duration * fps (webm, some mkv)."""

    n_frames: int
    fps: float
    width: int
    height: int
    duration: float
    exact: bool


def _video_stream(container: av.container.InputContainer, path: str) -> av.video.stream.VideoStream:
    if not container.streams.video:
        raise ValueError(f"no video stream in {path}")
    return container.streams.video[0]


def _rate(stream: av.video.stream.VideoStream) -> float:
    # average_rate is frames/duration as the demuxer saw them; guessed_rate covers containers
    # (some avi/mkv) that leave it unset.
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return float(rate) if rate else 0.0


def probe_stream(path: str, decode_first: bool = True) -> StreamInfo:
    """Container metadata for `path`; with `decode_first`, also decode one frame to prove the codec
    works. Raises av/OS errors, ValueError or NoFrames; harness.video turns them into VideoError."""
    with av.open(path) as container:
        stream = _video_stream(container, path)
        fps = _rate(stream)
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:  # microseconds; may include a longer audio track
            duration = container.duration / 1_000_000
        else:
            duration = 0.0
        exact = stream.frames > 0
        n_frames = stream.frames if exact else round(duration * fps)
        width, height = stream.codec_context.width, stream.codec_context.height
        if decode_first and next(iter(container.decode(stream)), None) is None:
            raise NoFrames("video has no decodable frames")
    if duration <= 0 and fps > 0:
        duration = n_frames / fps
    return StreamInfo(n_frames, fps, width, height, duration, exact)


# -- PyAV ------------------------------------------------------------------------------------------
def read_pyav(path: str, wanted: list[int], fps: float) -> Decoded:
    """Decode only what `wanted` needs: seek to the keyframe before a far target, decode forward
    through near ones, stop after the last. Frame index = presentation time * fps."""
    out: Decoded = {}
    with av.open(path) as container:
        stream = _video_stream(container, path)
        stream.thread_type = "AUTO"  # frame threads: ~2x on 2 cores for the forward decode
        t0 = stream.start_time or 0
        tb = stream.time_base or Fraction(1, 1_000_000)
        frames: Iterator[av.VideoFrame] | None = None
        # How far ahead it pays to decode forward rather than seek. Seeking wins only when a
        # keyframe lies between here and the target, so this tracks the keyframe spacing seen.
        gop = max(16, int(2 * fps))
        cur, last, last_key = -1, None, None  # index decoded last, (index, frame), last keyframe
        for target in wanted:
            if last is not None and target <= cur:  # pts gap: an earlier target took this frame
                out[target] = (last[0], last[1].to_ndarray(format="rgb24"))
                continue
            if frames is None or target - cur > gop:
                frames, first = _seek(container, stream, target, fps, t0, tb)
                if first is None:
                    break
                if first[0] <= cur:  # landed behind where we were: no keyframe in between
                    gop = max(gop, target - first[0] + 1)
                cur, last, last_key = first[0], first, first[0]
                if cur >= target:
                    out[target] = (cur, first[1].to_ndarray(format="rgb24"))
                    continue
            for frame in frames:
                if frame.pts is None:
                    raise ValueError("frames without timestamps; cannot index them")
                cur = _index(frame, fps, t0, tb)
                last = (cur, frame)
                if frame.key_frame:
                    if last_key is not None and cur > last_key:
                        gop = max(gop, cur - last_key)
                    last_key = cur
                if cur >= target:
                    out[target] = (cur, frame.to_ndarray(format="rgb24"))
                    break
            else:
                break  # end of stream before `target`
        if not out and last is None:
            raise NoFrames("video has no decodable frames")
        for target in wanted:  # past the real end: the last decodable frame
            if target not in out and last is not None:
                out[target] = (last[0], last[1].to_ndarray(format="rgb24"))
    return out


def _index(frame: av.VideoFrame, fps: float, t0: int, tb: Fraction) -> int:
    return round(float((frame.pts - t0) * tb) * fps)


def _seek(container: av.container.InputContainer, stream: av.video.stream.VideoStream, target: int,
          fps: float, t0: int, tb: Fraction) -> tuple[Iterator[av.VideoFrame], tuple[int, av.VideoFrame] | None]:
    """Seek to the keyframe at or before `target`; return the frame iterator and its first frame.
    Some demuxers land after the requested time: step back (1 s, 2 s, 4 s, ... then the start)."""
    back = 0.0
    while True:
        seconds = max(0.0, (target + 0.5) / fps - back)
        container.seek(t0 + int(seconds / tb), stream=stream, backward=True, any_frame=False)
        frames = container.decode(stream)
        first = next(frames, None)
        if first is None or first.pts is None:
            if first is not None:
                raise ValueError("frames without timestamps; cannot index them")
            if seconds == 0.0:
                return frames, None
        else:
            idx = _index(first, fps, t0, tb)
            if idx <= target or seconds == 0.0:
                return frames, (idx, first)
        back = max(1.0, 2 * back)


# -- decord ----------------------------------------------------------------------------------------
def decord_available() -> bool:
    try:
        import decord  # noqa: F401
    except ImportError:
        return False
    return True


def read_decord(path: str, wanted: list[int], fps: float) -> Decoded:
    """decord's get_batch on the wanted indices (it seeks per keyframe itself); indices past its own
    frame count get its last frame. `fps` is unused: decord indexes frames itself."""
    import decord

    try:
        reader = decord.VideoReader(path, ctx=decord.cpu(0), num_threads=0)  # 0: decoder picks, as PyAV's AUTO
        n = len(reader)
        if n <= 0:
            raise NoFrames("video has no decodable frames")
        actual = [min(i, n - 1) for i in wanted]
        uniq = sorted(set(actual))
        batch = reader.get_batch(uniq).asnumpy()  # (T, H, W, 3) uint8 RGB
    except decord.DECORDError as e:  # not a RuntimeError subclass; keep only its first line
        first_line = str(e).strip().splitlines()[0]
        raise DecodeError("decord: " + re.sub(r"^\[[\d:]+\] \S+:\d+: ", "", first_line)) from e
    pos = {idx: k for k, idx in enumerate(uniq)}
    return {req: (act, batch[pos[act]]) for req, act in zip(wanted, actual)}
