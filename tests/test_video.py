"""harness.video: sampling rules, both decoders on real encodes, the other media kinds, bad input."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from harness import video
from harness.errors import ConfigError, VideoError
from harness.types import FramePolicy, MediaRef
from harness.video import backends as vb
from harness.video import reader

HAS_DECORD = vb.decord_available()
BACKENDS = ["pyav"] + (["decord"] if HAS_DECORD else [])
# From tests/data/real/SOURCES.md: frames, fps, width, height.
REAL = {
    "1034346401.mp4": (444, 30000 / 1001, 600, 316),
    "sample_demo_1.mp4": (243, 25.0, 640, 360),
    "sample_demo_3.mp4": (146, 24000 / 1001, 640, 360),
    "sample_demo_9.mp4": (219, 24000 / 1001, 596, 336),
}


@pytest.fixture(scope="session")
def real_videos(real_fixtures: Path) -> Path:
    return real_fixtures / "videos"


@pytest.fixture(scope="session")
def all_frames(real_videos: Path) -> np.ndarray:
    """Ground truth: every frame of 1034346401.mp4 (B-frames, keyframes at 0 and 250), in order."""
    with av.open(str(real_videos / "1034346401.mp4")) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def encode(path: Path, frames: np.ndarray, fps: int = 8, codec: str = "libx264",
           options: dict[str, str] | None = None) -> Path:
    """Write RGB frames with a chosen codec/container (format from the suffix)."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=Fraction(fps))
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.options = options or {}
        for a in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(a, format="rgb24")))
        out.mux(stream.encode())
    return path


def ramp(n: int, size: int = 32) -> np.ndarray:
    """n frames, each showing its index as 16 black/white 8x8 blocks (bits), robust to lossy coding."""
    bits = (np.arange(n)[:, None] >> np.arange(16)) & 1  # (n, 16)
    blocks = (bits.reshape(n, 4, 4) * 255).astype(np.uint8)
    frames = blocks.repeat(size // 4, axis=1).repeat(size // 4, axis=2)  # (n, size, size)
    return np.repeat(frames[..., None], 3, axis=3)


def which(frame: np.ndarray, n: int = 0) -> int:
    """The index `ramp` stamped on a (decoded) frame."""
    size = frame.shape[0]
    cells = frame.mean(axis=2).reshape(4, size // 4, 4, size // 4).mean(axis=(1, 3)) > 127
    return int((cells.reshape(16) << np.arange(16)).sum())


# -- sample_indices ---------------------------------------------------------------------------------
def test_uniform_takes_the_middle_of_equal_segments() -> None:
    # 101 frames [0, 100], 4 segments of 25: middles 12.5, 37.5, 62.5, 87.5, halves rounded up.
    assert video.sample_indices(FramePolicy(n=4), 101, 25.0) == [13, 38, 63, 88]
    assert video.sample_indices(FramePolicy(n=1), 11, 25.0) == [5]


@settings(max_examples=300, deadline=None)
@given(n_frames=st.integers(1, 5000), n=st.integers(1, 64))
def test_uniform_matches_the_reference_rule(n_frames: int, n: int) -> None:
    # VideoLLaMA2 / Video-MME: segment size (frames - 1) / n, middle of each, rounded (+1e-6 ties up).
    seg = (n_frames - 1) / n
    reference = [int(np.round(seg * (i + 0.5) + 1e-6)) for i in range(n)]
    got = video.sample_indices(FramePolicy(n=n), n_frames, 30.0)
    assert got == reference
    assert len(got) == n and got == sorted(got) and 0 <= got[0] and got[-1] < n_frames


def test_uniform_repeats_rather_than_returning_fewer() -> None:
    got = video.sample_indices(FramePolicy(n=8), 3, 8.0)
    assert got == [0, 0, 1, 1, 1, 1, 2, 2]
    assert video.sample_indices(FramePolicy(n=5), 1, 8.0) == [0] * 5


def test_clip_bounds_follow_the_seed() -> None:
    # process_video: first = max(int(s * fps) - 1, 0), last = min(int(e * fps) - 1, n - 1).
    # 8 fps, 16 frames: [0.0, 0.8] -> frames 0..5; [1.2, 2.0] -> 8..15.
    before = video.sample_indices(FramePolicy(n=16), 16, 8.0, 0.0, 0.8)
    after = video.sample_indices(FramePolicy(n=16), 16, 8.0, 1.2, 2.0)
    assert (min(before), max(before)) == (0, 5)
    assert (min(after), max(after)) == (8, 15)
    # Bounds given backwards are swapped; negative ones are 0; an end past the video is its last frame.
    assert video.sample_indices(FramePolicy(n=16), 16, 8.0, 0.8, 0.0) == before
    assert video.sample_indices(FramePolicy(n=4), 16, 8.0, -3.0, 99.0) == video.sample_indices(FramePolicy(n=4), 16, 8.0)
    # start == end is a one-second clip: [1.0, 2.0] -> frames 7..15.
    assert video.sample_indices(FramePolicy(n=2), 16, 8.0, 1.0, 1.0) == [9, 13]


@pytest.mark.parametrize("start,end", [(5.0, 6.0), (2.2, 9.0), (3.0, 3.0)])
def test_a_clip_holding_no_frame_raises(start: float, end: float) -> None:
    # 16 frames at 8 fps end at 2 s: these clips start after the last frame (the seed: IndexError).
    with pytest.raises(VideoError, match="holds no frame"):
        video.sample_indices(FramePolicy(n=4), 16, 8.0, start, end)


def test_fps_mode_one_frame_per_slot_then_clamped_to_uniform() -> None:
    # 2 s at 8 fps, 1 frame/s: the middles of [0, 8) and [8, 16).
    assert video.sample_indices(FramePolicy(mode="fps", fps=1.0, n=0), 16, 8.0) == [4, 12]
    assert video.sample_indices(FramePolicy(mode="fps", fps=4.0, n=0), 16, 8.0) == [1, 3, 5, 7, 9, 11, 13, 15]
    # Too few slots: min_frames switches to uniform with that count.
    few = FramePolicy(mode="fps", fps=1.0, n=0, min_frames=8)
    assert video.sample_indices(few, 16, 8.0) == video.sample_indices(FramePolicy(n=8), 16, 8.0)
    # 10 minutes at 30 fps, 1 frame/s = 600 slots, clamped to max 64 -> uniform:64.
    many = FramePolicy(mode="fps", fps=1.0, n=0, max_frames=64)
    assert video.sample_indices(many, 18000, 30.0) == video.sample_indices(FramePolicy(n=64), 18000, 30.0)
    # fps mode honours clips: 1 frame/s over [10, 14] s of a 30 fps video (frames 299..419).
    assert video.sample_indices(FramePolicy(mode="fps", fps=1.0, n=0), 18000, 30.0, 10.0, 14.0) == [314, 344, 374, 404]


def test_bad_policies_and_videos() -> None:
    with pytest.raises(ConfigError):
        video.sample_indices(FramePolicy(n=0), 16, 8.0)
    with pytest.raises(ConfigError):
        video.sample_indices(FramePolicy(mode="fps", fps=0.0, n=0), 16, 8.0)
    with pytest.raises(ConfigError):
        video.sample_indices(FramePolicy(mode="fps", fps=1.0, n=0, min_frames=9, max_frames=4), 16, 8.0)
    with pytest.raises(VideoError, match="no frames"):
        video.sample_indices(FramePolicy(n=4), 0, 8.0)
    with pytest.raises(VideoError, match="frame rate"):
        video.sample_indices(FramePolicy(n=4), 16, 0.0)


# -- real encodes -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(REAL))
def test_probe_real_videos(real_videos: Path, name: str) -> None:
    n, fps, w, h = REAL[name]
    info = video.probe(MediaRef(str(real_videos / name)))
    assert (info.n_frames, info.width, info.height) == (n, w, h)
    assert info.fps == pytest.approx(fps)
    assert info.duration == pytest.approx(n / fps, abs=0.05)


@pytest.mark.parametrize("name", sorted(REAL))
def test_backends_agree_on_real_videos(real_videos: Path, name: str) -> None:
    media = MediaRef(str(real_videos / name), start=1.0, end=5.5)
    reads = {b: video.read_frames(media, FramePolicy(n=6), backend=b) for b in BACKENDS}
    reads["auto"] = video.read_frames(media, FramePolicy(n=6))
    n, fps, w, h = REAL[name]
    first = reads["pyav"]
    assert first.array.shape == (6, h, w, 3) and first.array.dtype == np.uint8
    assert first.indices == video.sample_indices(FramePolicy(n=6), n, fps, 1.0, 5.5)
    assert all(1.0 - 1 / fps <= t < 5.5 for t in first.timestamps)
    for other in reads.values():
        assert other.indices == first.indices and other.timestamps == first.timestamps
        assert np.abs(other.array.astype(int) - first.array).mean() < 1.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_frames_are_the_right_frames(real_videos: Path, all_frames: np.ndarray, backend: str) -> None:
    """Against a full sequential decode: seeks across the keyframe at 250, dense runs, the ends."""
    path = str(real_videos / "1034346401.mp4")
    wanted = [0, 3, 4, 120, 249, 250, 251, 260, 400, 443]
    got = (vb.read_pyav if backend == "pyav" else vb.read_decord)(path, wanted, 30000 / 1001)
    for i in wanted:
        assert got[i][0] == i
        assert np.abs(got[i][1].astype(int) - all_frames[i]).mean() < 1.0, f"frame {i}"
    # Through the public API, with repeats (more frames asked than the clip has).
    frames = video.read_frames(MediaRef(path, start=8.0, end=8.2), FramePolicy(n=12), backend=backend)
    assert len(frames.indices) == 12 and len(set(frames.indices)) < 12
    assert all(np.array_equal(a, all_frames[i]) or np.abs(a.astype(int) - all_frames[i]).mean() < 1.0
               for a, i in zip(frames.array, frames.indices, strict=True))


@pytest.fixture
def decoded_count(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the frames PyAV's decoder hands back to the reader (skipped frames are not decoded)."""
    count = [0]
    real = vb._Cursor._decode

    def counting(self: vb._Cursor, packet: av.Packet) -> list[av.VideoFrame]:
        frames = real(self, packet)
        count[0] += len(frames)
        return frames

    monkeypatch.setattr(vb._Cursor, "_decode", counting)
    return count


def test_pyav_decodes_only_what_the_sample_needs(tmp_path: Path, decoded_count: list[int]) -> None:
    n = 480  # 60 s at 8 fps, a keyframe every 24 frames
    path = encode(tmp_path / "long.mp4", ramp(n), options={"g": "24", "sc_threshold": "0", "preset": "ultrafast"})
    frames = video.read_frames(MediaRef(str(path)), FramePolicy(n=8), backend="pyav")
    assert [which(a) for a in frames.array] == frames.indices  # the frames asked for
    assert 8 <= decoded_count[0] <= 8 * 24, "decoded more than one GOP per sampled frame"
    # Dense requests decode forward without re-seeking: 16 consecutive frames cost about 16 decodes.
    decoded_count[0] = 0
    got = vb.read_pyav(str(path), list(range(100, 116)), 8.0)
    assert [which(a) for _, a in got.values()] == list(range(100, 116))
    assert 16 <= decoded_count[0] <= 16 + 24


def test_pyav_skips_unreferenced_frames_before_the_target(tmp_path: Path, decoded_count: list[int]) -> None:
    # x264 "fast": B-frames, some of them unreferenced; one GOP of 48 frames.
    path = encode(tmp_path / "b.mp4", ramp(48), options={"g": "48", "sc_threshold": "0", "preset": "fast"})
    got = vb.read_pyav(str(path), [46, 47], 8.0)
    assert [(i, which(a)) for i, a in got.values()] == [(46, 46), (47, 47)]
    assert decoded_count[0] < 40  # not all 48: the unreferenced B-frames before frame 46 were dropped
    everything = video.read_frames(MediaRef(str(path)), FramePolicy(n=48), backend="pyav")
    assert [which(a) for a in everything.array] == list(range(48))  # a wanted frame is never skipped


def test_pyav_cut_file_gives_its_real_last_frame(tmp_path: Path, real_videos: Path) -> None:
    data = (real_videos / "sample_demo_3.mp4").read_bytes()
    for cut in (150_000, 260_000):
        path = tmp_path / f"cut{cut}.mp4"
        path.write_bytes(data[:cut])
        with av.open(str(path)) as c:  # ground truth: a plain single-threaded decode, bad packets skipped
            stream, last = c.streams.video[0], None
            for packet in c.demux(stream):
                try:
                    last = next(reversed(packet.decode()), last)
                except av.InvalidDataError:
                    pass
            last_index = round(float(last.pts * stream.time_base) * 24000 / 1001)
        got = vb.read_pyav(str(path), [10, 145], 24000 / 1001)
        assert got[145][0] == last_index
        assert np.array_equal(got[145][1], last.to_ndarray(format="rgb24"))
        assert got[10][0] == 10


def test_auto_falls_back_to_pyav_when_decord_fails(real_videos: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    media = MediaRef(str(real_videos / "sample_demo_3.mp4"))
    expected = video.read_frames(media, FramePolicy(n=4), backend="pyav")

    def broken(*args: object) -> vb.Decoded:
        raise RuntimeError("decord cannot read this")

    monkeypatch.setattr(vb, "decord_available", lambda: True)
    monkeypatch.setattr(vb, "read_decord", broken)
    got = video.read_frames(media, FramePolicy(n=4))
    assert got.indices == expected.indices and np.array_equal(got.array, expected.array)
    with pytest.raises(VideoError, match="decord cannot read this"):  # asked for by name: no fallback
        video.read_frames(media, FramePolicy(n=4), backend="decord")
    monkeypatch.setattr(vb, "decord_available", lambda: False)
    assert video.available_backends() == ["pyav"]
    assert video.read_frames(media, FramePolicy(n=4)).indices == expected.indices


def test_concurrent_reads_agree(real_videos: Path) -> None:
    # The runner decodes samples on a thread pool.
    media = MediaRef(str(real_videos / "sample_demo_9.mp4"))
    with ThreadPoolExecutor(4) as pool:
        reads = list(pool.map(lambda b: video.read_frames(media, FramePolicy(n=4), backend=b), BACKENDS * 3))
    assert all(np.array_equal(r.array, reads[0].array) for r in reads)


def test_webm_without_a_frame_count(tmp_path: Path) -> None:
    path = encode(tmp_path / "clip.webm", ramp(40), codec="libvpx", options={"deadline": "realtime"})
    with av.open(str(path)) as c:
        assert c.streams.video[0].frames == 0  # the premise: webm does not store a frame count
    info = video.probe(MediaRef(str(path)))
    assert abs(info.n_frames - 40) <= 1 and info.fps == pytest.approx(8.0)
    reads = [video.read_frames(MediaRef(str(path)), FramePolicy(n=8), backend=b) for b in BACKENDS]
    for r in reads:
        assert [which(a, 40) for a in r.array] == r.indices == reads[0].indices
    # An index past the real end (the estimate can overshoot) gets the last decodable frame.
    got = vb.read_pyav(str(path), [0, 39, 45], 8.0)
    assert got[45][0] == 39 and which(got[45][1], 40) == 39


def test_webm_whose_audio_outlasts_the_video_counts_the_video_frames(tmp_path: Path) -> None:
    """The frame count is the decoder's (the video's packets, as the seed's decord counts them), not
    the container's duration times the rate: 5 s of audio beside 2 s of video must not add 24
    repeated last frames at the end of the sampled span."""
    path = tmp_path / "talk.webm"
    frames = ramp(16)
    with av.open(str(path), "w") as out:
        v = out.add_stream("libvpx", rate=8)
        v.width, v.height, v.pix_fmt, v.options = 32, 32, "yuv420p", {"deadline": "realtime"}
        a = out.add_stream("libopus", rate=48000)
        for f in frames:
            out.mux(v.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        out.mux(v.encode())
        tone = np.zeros((1, 960), np.float32)  # 20 ms of silence per frame, 250 of them: 5 s
        for i in range(250):
            af = av.AudioFrame.from_ndarray(tone, format="flt", layout="mono")
            af.sample_rate, af.pts = 48000, i * 960
            out.mux(a.encode(af))
        out.mux(a.encode())
    with av.open(str(path)) as c:
        assert c.streams.video[0].frames == 0 and c.duration / 1e6 > 4  # no count; the container lasts 5 s
    assert video.probe(MediaRef(str(path))).n_frames == 16
    got = video.read_frames(MediaRef(str(path)), FramePolicy(n=8))
    assert got.indices == [1, 3, 5, 7, 8, 10, 12, 14] and [which(x, 16) for x in got.array] == got.indices


# -- frame folders, gifs, images --------------------------------------------------------------------
def _write_folder(folder: Path, frames: np.ndarray, names: list[str]) -> None:
    folder.mkdir()
    for a, name in zip(frames, names, strict=True):
        Image.fromarray(a).save(folder / name)


def test_frame_folder_sorted_by_name_with_gaps(tmp_path: Path) -> None:
    frames = ramp(5)
    _write_folder(tmp_path / "f", frames, ["00001.png", "00002.png", "00005.png", "00009.png", "00010.png"])
    (tmp_path / "f" / "notes.txt").write_text("not a frame")
    media = MediaRef(str(tmp_path / "f"), kind="frames", fps=3)
    info = video.probe(media)
    assert (info.n_frames, info.fps, info.width) == (5, 3.0, 32)
    got = video.read_frames(media, FramePolicy(n=5))
    assert got.indices == [0, 1, 2, 3, 4] and np.array_equal(got.array, frames)
    assert got.timestamps == pytest.approx([0, 1 / 3, 2 / 3, 1, 4 / 3])
    # [0.7, 1.4] s at 3 fps: frames int(2.1) - 1 = 1 .. int(4.2) - 1 = 3.
    clip = video.read_frames(MediaRef(str(tmp_path / "f"), kind="frames", fps=3, start=0.7, end=1.4), FramePolicy(n=3))
    assert clip.indices == [1, 2, 3]
    # Names sort as text, as the seed's sorted(os.listdir()): "10.png" before "2.png".
    _write_folder(tmp_path / "g", frames[:3], ["2.png", "10.png", "1.png"])
    got = video.read_frames(MediaRef(str(tmp_path / "g"), kind="frames"), FramePolicy(n=3))
    assert np.array_equal(got.array, frames[[2, 1, 0]])


def test_frame_folder_problems(tmp_path: Path) -> None:
    with pytest.raises(VideoError, match="frame folder not found") as e:
        video.read_frames(MediaRef(str(tmp_path / "nope"), kind="frames"), FramePolicy(n=2))
    assert str(tmp_path / "nope") in str(e.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(VideoError, match="no image files"):
        video.probe(MediaRef(str(tmp_path / "empty"), kind="frames"))
    _write_folder(tmp_path / "bad", ramp(2), ["00001.jpg", "00002.jpg"])
    (tmp_path / "bad" / "00002.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(VideoError, match="00002.jpg"):
        video.read_frames(MediaRef(str(tmp_path / "bad"), kind="frames"), FramePolicy(n=2))
    _write_folder(tmp_path / "mixed", np.zeros((1, 8, 8, 3), np.uint8), ["00001.png"])
    Image.new("RGB", (16, 8)).save(tmp_path / "mixed" / "00002.png")
    with pytest.raises(VideoError, match="differ in size"):
        video.read_frames(MediaRef(str(tmp_path / "mixed"), kind="frames"), FramePolicy(n=2))


def test_gif_frames_and_rate(tmp_path: Path) -> None:
    frames = ramp(6)
    images = [Image.fromarray(a) for a in frames]
    images[0].save(tmp_path / "a.gif", save_all=True, append_images=images[1:], duration=250, loop=0)
    media = MediaRef(str(tmp_path / "a.gif"), kind="gif")
    info = video.probe(media)
    assert (info.n_frames, info.fps) == (6, 25.0)  # the seed reads every gif at 25 fps, whatever its delays
    got = video.read_frames(media, FramePolicy(n=3))
    assert got.indices == [1, 3, 4] and [which(a, 6) for a in got.array] == [1, 3, 4]
    assert got.timestamps == pytest.approx([1 / 25, 3 / 25, 4 / 25])
    # Each sampled frame once, in order (the seed enumerates the gif once); the model's processor
    # pads the rest with black frames.
    dup = video.read_frames(media, FramePolicy(n=8))
    assert dup.indices == [0, 1, 2, 3, 4, 5] and [which(a, 6) for a in dup.array] == dup.indices
    images[0].save(tmp_path / "one.gif")  # a one-frame gif
    one = video.read_frames(MediaRef(str(tmp_path / "one.gif"), kind="gif"), FramePolicy(n=4))
    assert one.array.shape == (1, 32, 32, 3) and one.indices == [0]


def test_image_is_one_frame(real_videos: Path) -> None:
    media = MediaRef(str(real_videos / "extreme_ironing.jpg"), kind="image")
    got = video.read_frames(media, FramePolicy(n=16))
    assert got.array.ndim == 4 and got.array.shape[0] == 1 and got.array.shape[3] == 3
    assert (got.indices, got.timestamps) == ([0], [0.0])
    assert video.probe(media).n_frames == 1


# -- bad input --------------------------------------------------------------------------------------
def _no_frames(path: Path, codec: str) -> Path:
    """A container with a video stream header and not one frame."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=44100 if codec == "aac" else 8)
        if codec != "aac":
            stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        out.start_encoding()
    return path


def _bad_files(tmp: Path, real: Path) -> dict[str, tuple[Path, str]]:
    data = (real / "sample_demo_3.mp4").read_bytes()
    (tmp / "empty.mp4").write_bytes(b"")
    (tmp / "head.mp4").write_bytes(data[:4096])  # cut inside the header
    (tmp / "tail.mp4").write_bytes(data[:200_000])  # header whole, ~40 of 146 frames left
    (tmp / "noise.mp4").write_bytes(np.random.default_rng(0).bytes(20_000))
    (tmp / "text.mp4").write_text("this is not a video\n")
    return {
        "missing": (tmp / "missing.mp4", "not found"),
        "empty": (tmp / "empty.mp4", "empty"),
        "head": (tmp / "head.mp4", "cannot decode"),
        "tail": (tmp / "tail.mp4", "truncated"),
        "noise": (tmp / "noise.mp4", "cannot decode"),
        "text": (tmp / "text.mp4", "cannot decode"),
        "no_frames": (_no_frames(tmp / "zero.avi", "mpeg4"), "video has no (decodable )?frames"),
        # An mp4 video track without samples is dropped by the demuxer: no video stream at all.
        "empty_track": (_no_frames(tmp / "zero.mp4", "libx264"), "no video stream"),
        "no_video": (_no_frames(tmp / "audio.m4a", "aac"), "no video stream"),
    }


@pytest.mark.parametrize("backend", ["auto", *BACKENDS])
def test_bad_videos_raise_video_error_naming_the_file(tmp_path: Path, real_videos: Path, backend: str) -> None:
    for case, (path, msg) in _bad_files(tmp_path, real_videos).items():
        if backend == "decord" and case == "tail":
            msg = "decord: "  # decord refuses the cut file itself; only "auto" falls back to PyAV
        with pytest.raises(VideoError, match=msg) as e:
            video.read_frames(MediaRef(str(path)), FramePolicy(n=8), backend=backend)
        assert str(path) in str(e.value), case
        if case != "tail":  # probe reads metadata and one frame: it cannot see a cut tail
            with pytest.raises(VideoError, match=msg):
                video.probe(MediaRef(str(path)))


def test_truncated_file_reads_the_frames_it_still_has(tmp_path: Path, real_videos: Path) -> None:
    cut = tmp_path / "tail.mp4"
    cut.write_bytes((real_videos / "sample_demo_3.mp4").read_bytes()[:200_000])
    whole = video.read_frames(MediaRef(str(real_videos / "sample_demo_3.mp4"), end=1.0), FramePolicy(n=4), "pyav")
    part = video.read_frames(MediaRef(str(cut), end=1.0), FramePolicy(n=4))
    assert part.indices == whole.indices and np.array_equal(part.array, whole.array)


def test_pixel_limit(real_videos: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    media = MediaRef(str(real_videos / "sample_demo_1.mp4"))
    with pytest.raises(VideoError, match="640x360, over the limit of 100000 pixels") as e:
        video.read_frames(media, FramePolicy(n=2), max_pixels=100_000)
    assert "sample_demo_1.mp4" in str(e.value) and e.value.hint
    monkeypatch.setattr(reader, "MAX_PIXELS", 570 * 380 - 1)  # the jpg is 570x380
    with pytest.raises(VideoError, match="over the limit"):
        video.read_frames(MediaRef(str(real_videos / "extreme_ironing.jpg"), kind="image"), FramePolicy(n=1))
    assert video.read_frames(media, FramePolicy(n=2), max_pixels=640 * 360).array.shape[0] == 2
    # The default refuses a frame over 8192 x 8192 from the header alone (no 200 MB decode).
    Image.new("1", (8200, 8200)).save(tmp_path / "huge.png")
    monkeypatch.setattr(reader, "MAX_PIXELS", 8192 * 8192)
    with pytest.raises(VideoError, match="8200x8200"):
        video.read_frames(MediaRef(str(tmp_path / "huge.png"), kind="image"), FramePolicy(n=1))


def test_unknown_backend_and_kind(real_videos: Path) -> None:
    media = MediaRef(str(real_videos / "sample_demo_3.mp4"))
    with pytest.raises(ConfigError, match="backend"):
        video.read_frames(media, FramePolicy(n=2), backend="opencv")
    with pytest.raises(VideoError, match="media kind"):
        video.read_frames(MediaRef(media.path, kind="audio"), FramePolicy(n=2))  # type: ignore[arg-type]


def test_clip_errors_name_the_file(real_videos: Path) -> None:
    path = str(real_videos / "sample_demo_3.mp4")
    with pytest.raises(VideoError, match="holds no frame") as e:
        video.read_frames(MediaRef(path, start=60.0, end=70.0), FramePolicy(n=2))
    assert path in str(e.value)
