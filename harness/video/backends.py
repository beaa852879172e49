"""Decoders for encoded video files, used only by harness.video.reader.

PyAV is always there; decord is used when installed. Both take sorted, unique frame indices and
return, for each, the index of the frame actually decoded and its RGB array: a request past the
real end of the stream gets the last decodable frame (the reader decides whether that gap is
small enough to be metadata noise or a truncated file).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

Decoded = dict[int, tuple[int, np.ndarray]]  # requested index -> (index decoded, (H, W, 3) uint8)


class DecodeError(Exception):
    """A decoder failed on the file (decord's own error type, re-raised as one the reader knows)."""


class NoFrames(DecodeError):
    """The stream opened but no frame could be decoded (empty or truncated before the first)."""


@dataclass
class StreamInfo:
    """What the container says about its first video stream; `n_frames` is the container's frame
    count, or the number of its packets where it has none (webm, some mkv)."""

    n_frames: int
    fps: float
    width: int
    height: int
    duration: float


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
    """Container metadata for `path` (the frame count counted from the packets when the container
    has none); with `decode_first`, also decode one frame to prove the codec works. Raises av/OS
    errors, ValueError or NoFrames; the reader turns them into VideoError."""
    with av.open(path) as container:
        stream = _video_stream(container, path)
        fps = _rate(stream)
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:  # microseconds; may include a longer audio track
            duration = container.duration / 1_000_000
        else:
            duration = 0.0
        width, height = stream.codec_context.width, stream.codec_context.height
        n_frames = stream.frames
        if decode_first and next(iter(container.decode(stream)), None) is None:
            raise NoFrames("video has no decodable frames")
    if n_frames <= 0:
        # No frame count in the container (webm, some mkv): count the stream's packets, as the
        # seed's decord does. A duration estimate would include an audio track that outlasts the
        # video, and the frames past the real end would repeat the last one.
        with av.open(path) as container:
            n_frames = sum(1 for packet in container.demux(_video_stream(container, path)) if packet.size)
    if duration <= 0 and fps > 0:
        duration = n_frames / fps
    return StreamInfo(n_frames, fps, width, height, duration)


# -- PyAV ------------------------------------------------------------------------------------------
class _Cursor:
    """Forward decoding over one stream, seeking to a keyframe only for targets more than a GOP
    ahead. Before the target the decoder drops frames nothing references (skip_frame NONREF): a
    third to half of a B-frame GOP, never a frame that is asked for."""

    def __init__(self, container: av.container.InputContainer, path: str, fps: float, fast: bool = True):
        self.container, self.fps = container, fps
        self.stream = stream = _video_stream(container, path)
        # fast: frame threads (up to ~1.3x on 2 cores) and skipping; see read_pyav for when not.
        stream.thread_type = "AUTO" if fast else "NONE"
        self.t0 = stream.start_time or 0
        self.tb = stream.time_base or Fraction(1, 1_000_000)
        self.packets: Iterator[av.Packet] | None = None  # None: the next get() must seek
        self.queue: deque[av.VideoFrame] = deque()  # decoded, not yet looked at
        self.last: tuple[int, av.VideoFrame] | None = None  # the last frame looked at
        self.key = 0  # index of the last keyframe seen
        self.gop = max(16, round(2 * fps))  # keyframe spacing: a guess, raised by what is seen
        self.skip = fast

    def index(self, frame: av.VideoFrame) -> int:
        if frame.pts is None:
            raise ValueError("frames without timestamps; cannot index them")
        return round(float((frame.pts - self.t0) * self.tb) * self.fps)

    def _next(self, target: int) -> av.VideoFrame | None:
        while not self.queue:
            packet = next(self.packets, None) if self.packets is not None else None
            if packet is None:
                return None
            # Half a frame of margin: float error must never drop the target itself.
            cutoff = self.t0 + (target - 0.5) / self.fps / self.tb
            before = self.skip and packet.pts is not None and packet.pts < cutoff
            self.stream.codec_context.skip_frame = "NONREF" if before else "DEFAULT"
            self.queue.extend(self._decode(packet))  # the empty packet at the end drains the decoder
        return self.queue.popleft()

    def _decode(self, packet: av.Packet) -> list[av.VideoFrame]:
        try:
            return self.stream.decode(packet)
        except av.InvalidDataError:  # a damaged or cut-off packet: skip it, as ffmpeg's tools do
            return []

    def _seek(self, target: int) -> None:
        """To the keyframe at or before `target`. Some demuxers land after the requested time: then
        step back 1 s, 2 s, 4 s, ... down to the start."""
        cur, back = (self.last[0] if self.last else -1), 0.0
        while True:
            seconds = max(0.0, (target + 0.5) / self.fps - back)
            self.container.seek(self.t0 + int(seconds / self.tb), stream=self.stream, backward=True)
            self.packets, self.queue = self.container.demux(self.stream), deque()
            first = self._next(target)
            idx = None if first is None else self.index(first)
            if (idx is not None and idx <= target) or seconds == 0.0:
                break
            back = max(1.0, 2 * back)
        if first is not None and idx is not None:
            self.queue.appendleft(first)
            if idx <= cur:  # landed behind where we were: no keyframe in between, the GOP is longer
                self.gop = max(self.gop, target - idx + 1)
            self.key = idx

    def get(self, target: int) -> tuple[int, av.VideoFrame] | None:
        """The first frame at or after `target`, or None at the end of the stream."""
        # A gap longer than a GOP has a keyframe in it, so seeking there costs less than decoding
        # through; a shorter one is decoded through (dense targets never seek).
        if self.packets is None or self.last is None or target - self.last[0] > self.gop:
            self._seek(target)
        while (frame := self._next(target)) is not None:
            idx = self.index(frame)
            if frame.key_frame and idx > self.key:
                self.gop, self.key = max(self.gop, idx - self.key), idx
            self.last = (idx, frame)
            if idx >= target:
                return self.last
        return None


def read_pyav(path: str, wanted: list[int], fps: float) -> Decoded:
    """Decode only what `wanted` needs; frame index = presentation time * fps."""
    out: Decoded = {}
    with av.open(path) as container:
        cursor = _Cursor(container, path, fps)
        for target in wanted:
            if cursor.last is not None and target <= cursor.last[0]:  # pts gap: shares the frame after it
                got: tuple[int, av.VideoFrame] | None = cursor.last
            elif (got := cursor.get(target)) is None:
                break
            out[target] = (got[0], got[1].to_ndarray(format="rgb24"))
    missing = [t for t in wanted if t not in out]
    if missing:
        # Past the end. Re-read the last GOP single-threaded and without skipping: the real last
        # frame may be an unreferenced one, and frame threads drop the frames in flight when a
        # cut-off packet fails to decode.
        with av.open(path) as container:
            cursor = _Cursor(container, path, fps, fast=False)
            cursor.get(missing[-1])
            if cursor.last is None:
                raise NoFrames("video has no decodable frames")
            last = (cursor.last[0], cursor.last[1].to_ndarray(format="rgb24"))
        out.update(dict.fromkeys(missing, last))
    return out


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
        # "[12:00:00] src/file.cc:100: [12:00:00] src/other.cc:12: Check failed: ..." -> "Check failed: ..."
        raise DecodeError("decord: " + re.sub(r"^(\[[\d:]+\] \S+:\d+: )+", "", first_line)) from e
    pos = {idx: k for k, idx in enumerate(uniq)}
    return {req: (act, batch[pos[act]]) for req, act in zip(wanted, actual)}
