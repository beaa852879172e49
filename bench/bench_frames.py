"""Frame sampling: time to get 16 uniformly sampled frames from a long video vs decoding every frame.

    python bench/bench_frames.py                # 10 min, 640x360, 30 fps; rewrites its section of bench/RESULTS.md
    python bench/bench_frames.py --minutes 1 --no-append

The video is made on the fly: a scrolling texture (motion for the encoder to track), H.264 at
x264's "superfast" preset (B-frames, CABAC, like real encodes) with a keyframe every 250 frames,
x264's default GOP. Sampled reads go through harness.video.read_frames (probe + index + decode);
decode-all is the best a reader that decodes every frame could do, with and without RGB conversion.
Target: sampled >= 10x faster than decode-all.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
from _results import write_section
from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import video
from harness.types import FramePolicy, MediaRef
from harness.video import backends as vb

WIDTH, HEIGHT, FPS, GOP, N_SAMPLED = 640, 360, 30, 250, 16
SECTION = "## Frame sampling (bench/bench_frames.py)"


def make_video(path: Path, minutes: float) -> int:
    """Encode `minutes` of a scrolling texture; returns the frame count."""
    rng = np.random.default_rng(0)
    noise = Image.fromarray(rng.integers(0, 256, (2 * HEIGHT, 2 * WIDTH), dtype=np.uint8))
    texture = np.asarray(noise.filter(ImageFilter.GaussianBlur(3)), dtype=np.float32)
    luma = ((texture - texture.mean()) * 4 + 128).clip(0, 255).astype(np.uint8)  # (2H, 2W)
    n = round(minutes * 60 * FPS)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "superfast", "crf": "23", "g": str(GOP)}
        # Frame threads, as the x264 CLI uses: one slice per frame like real encodes (PyAV's default
        # slice threads write several, which lets a decoder thread within a frame and flatters it).
        stream.codec_context.thread_type = "FRAME"
        for i in range(n):
            # Ping-pong scrolling: continuous motion (a wrap-around jump would be a scene cut to x264).
            y, x = HEIGHT - abs(2 * i % (2 * HEIGHT) - HEIGHT), WIDTH - abs(3 * i % (2 * WIDTH) - WIDTH)
            # A slow colour drift (10 s period): smooth, so x264's scene-cut detector stays quiet.
            chroma = np.full((HEIGHT // 2, WIDTH), round(128 + 24 * np.sin(i * 2 * np.pi / (10 * FPS))), np.uint8)
            planes = np.concatenate([luma[y:y + HEIGHT, x:x + WIDTH], chroma])  # (H * 3/2, W) yuv420p
            out.mux(stream.encode(av.VideoFrame.from_ndarray(planes, format="yuv420p")))
        out.mux(stream.encode())
    return n


def decode_all_pyav(path: Path, rgb: bool) -> int:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # as read_frames uses
        n = 0
        for frame in container.decode(stream):
            if rgb:
                frame.to_ndarray(format="rgb24")
            n += 1
    return n


def decode_all_decord(path: Path) -> int:
    """decord has no decode-without-RGB mode (its skip_frames ran at 20k frames/s here: it does not
    decode), so only the +RGB baseline exists for it."""
    import decord

    reader = decord.VideoReader(str(path), ctx=decord.cpu(0), num_threads=0)
    n = len(reader)
    for start in range(0, n, 128):  # contiguous batches: decord decodes them sequentially
        reader.get_batch(list(range(start, min(n, start + 128)))).asnumpy()
    return n


def keyframe_spacing(path: Path) -> float:
    """Mean frames between keyframes, from packet flags (demux only, no decoding)."""
    with av.open(str(path)) as container:
        flags = [p.is_keyframe for p in container.demux(video=0) if p.size]
    return len(flags) / max(1, sum(flags))


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of `repeat` runs."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def table(rows: list[list[object]], headers: list[str]) -> str:
    try:
        from tabulate import tabulate
    except ImportError:
        lines = [" | ".join(headers)] + [" | ".join(str(c) for c in r) for r in rows]
        return "\n".join(lines)
    return tabulate(rows, headers, tablefmt="github", disable_numparse=True)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        names = [ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                 if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    decord = ""
    if vb.decord_available():
        import decord as dec

        decord = f", decord {dec.__version__}"
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, PyAV {av.__version__}{decord}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--repeat", type=int, default=3, help="runs per sampled read (median)")
    ap.add_argument("--no-append", action="store_true", help="print only; leave bench/RESULTS.md alone")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.mp4"
        t = time.perf_counter()
        n = make_video(path, args.minutes)
        spacing = keyframe_spacing(path)
        print(f"encoded {n} frames ({args.minutes:g} min, {WIDTH}x{HEIGHT}, {FPS} fps, GOP {GOP}, mean keyframe "
              f"spacing {spacing:.0f}) in {time.perf_counter() - t:.1f} s, {path.stat().st_size / 1e6:.1f} MB",
              flush=True)
        media, policy = MediaRef(str(path)), FramePolicy(n=N_SAMPLED)
        rows, reads = [], {}
        for backend in video.available_backends():
            reads[backend] = video.read_frames(media, policy, backend=backend)  # also warms the page cache
            sampled = timed(lambda b=backend: video.read_frames(media, policy, backend=b), args.repeat)
            t = time.perf_counter()
            assert (decode_all_decord(path) if backend == "decord" else decode_all_pyav(path, rgb=True)) >= n - 1
            all_rgb = time.perf_counter() - t
            all_plain: float | str = "n/a"
            if backend == "pyav":
                t = time.perf_counter()
                decode_all_pyav(path, rgb=False)
                all_plain = time.perf_counter() - t
            plain_x = f"{all_plain / sampled:.1f}x" if isinstance(all_plain, float) else "n/a"
            plain = f"{all_plain:.2f}" if isinstance(all_plain, float) else all_plain
            rows.append([backend, f"{sampled:.2f}", f"{all_rgb:.2f}", plain, f"{all_rgb / sampled:.1f}x", plain_x])
            print(f"{backend}: sampled {sampled:.2f} s, decode-all {all_rgb:.1f} s (RGB) / {plain} s", flush=True)
        same = len({tuple(r.indices) for r in reads.values()}) == 1 and all(
            np.array_equal(r.array, next(iter(reads.values())).array) for r in reads.values())
        if not vb.decord_available():
            print("decord is not installed: PyAV only")

    headers = ["backend", f"{N_SAMPLED} sampled s", "decode-all +RGB s", "decode-all s",
               "speedup vs decode-all +RGB", "speedup vs decode-all"]
    text = table(rows, headers)
    print(text)
    print(f"backends agree on indices and pixels: {same}")
    if args.no_append:
        return
    section = (f"{SECTION} — {dt.date.today().isoformat()}, {machine()}\n\n"
               f"{N_SAMPLED} uniformly sampled frames via `read_frames` (median of {args.repeat}) vs decoding "
               f"every frame of a {args.minutes:g} min {WIDTH}x{HEIGHT} {FPS} fps H.264 video ({n} frames, "
               f"x264 superfast, GOP {GOP}, mean keyframe spacing {spacing:.0f}); \"+RGB\" also converts every frame to RGB, as a reader "
               f"returning all frames must. Backends agree on indices and pixels: {same}.\n\n{text}\n")
    write_section(SECTION, section)
    print("rewrote its section of bench/RESULTS.md")


if __name__ == "__main__":
    main()
