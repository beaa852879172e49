"""Frames in: the one path from a media file to the RGB frames a model sees.

sampling  frame indices: the clip's bounds (`clip_span`), the seed's uniform rule, `sample_indices`
reader    `probe` and `read_frames` for videos, frame folders, gifs and images; VideoError on any failure
backends  the video-file decoders (decord when installed, PyAV always)

The per-process settings (MAX_PIXELS, from HARNESS_MAX_PIXELS) live in harness.video.reader, which
reads them on every call: change them there.
"""

from .reader import FOLDER_FPS, GIF_FPS, IMAGE_EXTS, VideoInfo, available_backends, probe, read_frames
from .sampling import clip_span, sample_indices

__all__ = ["FOLDER_FPS", "GIF_FPS", "IMAGE_EXTS", "VideoInfo", "available_backends", "clip_span", "probe",
           "read_frames", "sample_indices"]
