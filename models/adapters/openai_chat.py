"""The model under test behind an OpenAI-compatible chat endpoint: a vLLM or SGLang server, GPT-4o on
OpenAI or Azure, anything that speaks the chat completions API.

    harness run --model openai --model-args model=NAME,base_url=http://host:8000/v1 --tasks mvbench

Each request is one user message: the sampled frames as base64 JPEG `image_url` parts (or, with
video=video_url, one H.264 mp4 made of exactly those frames), then the task's official instruction
verbatim as a text part. No system message is added: the model's own (its chat template, the
server's defaults) applies. Text-only requests send the text alone. Greedy unless the generation
settings say otherwise.

Requests go through harness.chat, the HTTP layer the judge uses: the key from the environment only
(api_key_env names the variable; a key is never an arg and never reaches any output), concurrency,
bounded retries honouring Retry-After, a hard deadline per attempt, response bodies bounded, a
circuit breaker. A request that still fails is a GenerationFailed with its reason (that sample's
error; transient when the endpoint failed it, so a rerun computes it again), never an empty
prediction. Each answer and failure carries what its request cost (attempts, tokens, the model the
endpoint answered as): the sample's record keeps it as `usage`, and each task's `model_usage` in
results.json is summed from the records (harness.usage), so it survives a resume and does not depend
on the number of ranks. No torch import: this adapter runs on a machine with nothing but the core.
"""

from __future__ import annotations

import asyncio
import base64
import io
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np

from harness.chat import ChatClient, Completion, Endpoint, FinalFailure, Outcome, Session, run_sync, sanitise_url
from harness.errors import ConfigError, ModelError
from harness.model import (
    Generated,
    GenerationFailed,
    ModelAdapter,
    ModelDescription,
    check_number,
    check_positive_int,
    check_whole_number,
)
from harness.types import FramePolicy, Request, stable_hash

NAME = "openai"
ENCODER = "1"  # how frames become request bytes (resize filter, JPEG/mp4 settings): part of the fingerprint
RERUN = "rerun the same command when the endpoint answers again"
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
PROVIDERS = ("openai", "azure")
DETAILS = ("low", "high", "auto")
VIDEO_MODES = ("images", "video_url")
SAMPLING = ("do_sample", "max_new_tokens", "temperature", "top_p", "top_k", "num_beams", "repetition_penalty", "seed")

MODEL_ARGS: dict[str, str] = {
    "model": "the model name the endpoint serves (required; Azure: the deployment name)",
    "base_url": "the endpoint, e.g. http://host:8000/v1 (default: OPENAI_BASE_URL, else api.openai.com; "
                "Azure: the resource endpoint, else AZURE_OPENAI_ENDPOINT)",
    "provider": "openai (OpenAI and any compatible server, the default) or azure",
    "api_version": "Azure API version (default: OPENAI_API_VERSION)",
    "api_key_env": "the NAME of the environment variable holding the key (default OPENAI_API_KEY, Azure: "
                   "AZURE_OPENAI_API_KEY); a key itself is never an arg",
    "num_frames": "frames per video, uniformly sampled (default: the task's)",
    "fps": "frames per second of video instead of num_frames, at most max_frames",
    "max_frames": "with fps: the most frames a video gives (default 64)",
    "max_side": "frames shrunk so the longer side is at most this many pixels (default 768; 0: as decoded)",
    "jpeg_quality": "JPEG quality of the frames, 1-100 (default 90)",
    "detail": "image_url detail: low, high or auto (default: not sent, the endpoint's default)",
    "video": "images (one image_url part per frame, the default) or video_url (one mp4 of the sampled frames)",
    "max_tokens": "at most this many completion tokens (default: the task's max_new_tokens)",
    "concurrency": "requests in flight (default 8)",
    "batch_size": "requests per generate call, sent `concurrency` at a time (default 16)",
    "retries": "attempts after the first, for 429/5xx/timeouts/dropped connections (default 4, at most 20)",
    "timeout": "seconds per attempt, a hard deadline (default 120)",
    "backoff": "first retry wait in seconds, doubling, with jitter (default 1; Retry-After overrides)",
    "breaker": "stop asking after this many endpoint failures in a row (default 20; 0: never)",
}


def _number(value: Any, what: str, low: float, *, above: bool = False) -> float:
    return check_number(value, f"{NAME} {what}", low, above=above)


def _whole(value: Any, what: str, low: int, high: int | None = None) -> int:
    return check_whole_number(value, f"{NAME} {what}", low, high)


def _choice(value: Any, what: str, choices: tuple[str, ...]) -> str:
    text = str(value).strip().lower()
    if text not in choices:
        raise ConfigError(f"{NAME} {what}={value!r}: must be one of {', '.join(choices)}")
    return text


@dataclass(frozen=True)
class Settings:
    """The model args checked and resolved (defaults filled in)."""

    model: str
    endpoint: Endpoint
    policy: FramePolicy | None
    max_side: int
    jpeg_quality: int
    detail: str | None
    video: str
    max_tokens: int | None
    concurrency: int
    batch_size: int
    retries: int
    timeout: float
    backoff: float
    breaker: int

    @classmethod
    def resolve(cls, args: dict[str, Any]) -> Settings:
        """Every arg known and in range, and an endpoint that can work (a key where a hosted API needs
        one, an Azure endpoint and version): ConfigError otherwise. Never echoes a value that may be
        a key. No network call."""
        keyish = sorted(k for k in args if "key" in k.lower() and k != "api_key_env")
        if keyish:  # refused without ever echoing the value
            raise ConfigError(f"{NAME} model arg {keyish[0]}: a key is never a model arg",
                              hint="export it and name the variable with api_key_env=VAR (default OPENAI_API_KEY)")
        unknown = sorted(set(args) - set(MODEL_ARGS))
        if unknown:
            raise ConfigError(f"unknown {NAME} model args {unknown}", hint=f"known: {', '.join(MODEL_ARGS)}")
        model = str(args.get("model") or "").strip()
        if not model:
            raise ConfigError(f"the {NAME} model needs model=NAME",
                              hint="the name the endpoint serves it under (vLLM: --served-model-name, else the path "
                                   "it serves; Azure: the deployment)")
        provider = _choice(args.get("provider", "openai"), "provider", PROVIDERS)
        key_env = args.get("api_key_env")
        if key_env is not None and not (isinstance(key_env, str) and ENV_NAME.fullmatch(key_env)):
            # the value is not shown: it may be the key itself, put in the wrong place
            raise ConfigError(f"{NAME} api_key_env: must be the NAME of an environment variable (letters, digits, _)",
                              hint="export the key as e.g. MY_KEY=... and pass api_key_env=MY_KEY")
        base_url = args.get("base_url")
        endpoint = Endpoint(provider, str(base_url) if base_url not in (None, "") else None,
                            str(args["api_version"]) if args.get("api_version") not in (None, "") else None,
                            key_env)
        problem = endpoint.problem("model endpoint", "--model-args")
        if problem is not None:
            raise ConfigError(problem[0], hint=problem[1])
        if args.get("num_frames") is not None and args.get("fps") is not None:
            raise ConfigError(f"{NAME}: num_frames and fps both given", hint="give one: num_frames=N or fps=F")
        if args.get("max_frames") is not None and args.get("fps") is None:
            raise ConfigError(f"{NAME} max_frames: only with fps=F", hint="num_frames=N sets the frame count")
        policy = None
        if args.get("num_frames") is not None:
            policy = FramePolicy("uniform", check_positive_int(args["num_frames"], f"{NAME} num_frames"))
        elif args.get("fps") is not None:
            policy = FramePolicy("fps", 0, _number(args["fps"], "fps", 0, above=True), 1,
                                 check_positive_int(args.get("max_frames", 64), f"{NAME} max_frames"))
        concurrency = check_positive_int(args.get("concurrency", 8), f"{NAME} concurrency")
        return cls(model, endpoint, policy,
                   max_side=_whole(args.get("max_side", 768), "max_side", 0),
                   jpeg_quality=_whole(args.get("jpeg_quality", 90), "jpeg_quality", 1, 100),
                   detail=_choice(args["detail"], "detail", DETAILS) if args.get("detail") is not None else None,
                   video=_choice(args.get("video", "images"), "video", VIDEO_MODES),
                   max_tokens=(check_positive_int(args["max_tokens"], f"{NAME} max_tokens")
                               if args.get("max_tokens") is not None else None),
                   concurrency=concurrency,
                   batch_size=check_positive_int(args.get("batch_size", max(16, 2 * concurrency)),
                                                 f"{NAME} batch_size"),
                   retries=_whole(args.get("retries", 4), "retries", 0, 20),
                   timeout=_number(args.get("timeout", 120.0), "timeout", 0, above=True),
                   backoff=_number(args.get("backoff", 1.0), "backoff", 0),
                   breaker=_whole(args.get("breaker", 20), "breaker", 0))

    def recorded(self) -> dict[str, Any]:
        """The args as results.json records them: resolved, the endpoint sanitised, never a key."""
        e = self.endpoint
        return {"model": self.model, "provider": e.provider, "base_url": sanitise_url(e.base_url),
                "api_version": e.api_version, "api_key_env": e.key_var,
                "frames": str(self.policy) if self.policy else None, "max_side": self.max_side,
                "jpeg_quality": self.jpeg_quality, "detail": self.detail, "video": self.video,
                "max_tokens": self.max_tokens, "concurrency": self.concurrency, "batch_size": self.batch_size,
                "retries": self.retries, "timeout": self.timeout, "backoff": self.backoff, "breaker": self.breaker}

    def fingerprint(self) -> str:
        """The sanitised endpoint, the model and every setting that changes what the model is sent or
        may answer (never the key, nor the transport settings: concurrency, retries, timeouts)."""
        e = self.endpoint
        return f"{NAME}-" + stable_hash({
            "endpoint": e.scope(), "provider": e.provider, "model": self.model,
            "api_version": e.version() if e.provider == "azure" else None,
            "frames": str(self.policy) if self.policy else None, "max_side": self.max_side,
            "jpeg_quality": self.jpeg_quality, "detail": self.detail, "video": self.video,
            "max_tokens": self.max_tokens, "encoder": ENCODER}, 16)

    def deviations(self) -> list[str]:
        size = f", shrunk to at most {self.max_side} px on the longer side" if self.max_side else ""
        how = (f"one H.264 mp4 (video_url){size}" if self.video == "video_url"
               else f"JPEG images (quality {self.jpeg_quality}){size}")
        return [f"frames sent to the endpoint as {how}; the model's server, not the harness, preprocesses them"]


def sampling(gen_kwargs: dict[str, Any], cap: int | None) -> dict[str, Any]:
    """The request's sampling fields from the run's generation settings: max_new_tokens -> max_tokens
    (at most `cap`), do_sample false -> temperature 0, do_sample true -> temperature (default 1) and
    top_p, seed as is. A setting the API cannot honour is a ConfigError."""
    gen = {k: v for k, v in gen_kwargs.items() if k != "oracle_answer"}
    for key in gen:
        if key not in SAMPLING:
            raise ConfigError(f"the {NAME} model cannot honour generation setting {key!r}",
                              hint=f"it takes: {', '.join(SAMPLING)}")
    if gen.get("num_beams", 1) != 1:
        raise ConfigError(f"the {NAME} model cannot honour num_beams={gen['num_beams']}",
                          hint="the chat completions API has no beam search; leave num_beams out")
    if gen.get("repetition_penalty", 1) != 1:
        raise ConfigError(f"the {NAME} model cannot honour repetition_penalty={gen['repetition_penalty']}",
                          hint="the chat completions API has no repetition penalty; leave it out")
    body: dict[str, Any] = {}
    if gen.get("do_sample"):
        if gen.get("top_k"):
            raise ConfigError(f"the {NAME} model cannot honour top_k={gen['top_k']}",
                              hint="the chat completions API has no top_k; leave it out")
        body["temperature"] = gen.get("temperature", 1.0)
        if gen.get("top_p") is not None:
            body["top_p"] = gen["top_p"]
    else:
        body["temperature"] = 0  # greedy: temperature/top_p/top_k do not apply, as in transformers
    limit = gen.get("max_new_tokens")
    limit = min(limit, cap) if limit and cap else (limit or cap)
    if limit:
        body["max_tokens"] = limit
    if gen.get("seed") is not None:
        body["seed"] = gen["seed"]
    return body


# -- frames to request bytes ---------------------------------------------------------------------------
def fit(frame: np.ndarray, max_side: int, even: bool = False) -> Any:
    """A (H, W, 3) uint8 RGB frame as a PIL image whose longer side is at most `max_side` (0: as it is),
    shrunk with a bicubic filter; `even`: both sides even (H.264's 4:2:0 needs them)."""
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(frame, dtype=np.uint8), "RGB")
    w, h = img.size
    scale = min(1.0, max_side / max(w, h)) if max_side else 1.0
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    if even:
        nw, nh = max(2, nw - nw % 2), max(2, nh - nh % 2)
    return img if (nw, nh) == (w, h) else img.resize((nw, nh), Image.Resampling.BICUBIC)


def jpeg(frame: np.ndarray, max_side: int, quality: int) -> bytes:
    out = io.BytesIO()
    fit(frame, max_side).save(out, format="JPEG", quality=quality)
    return out.getvalue()


def mp4(frames: np.ndarray, timestamps: list[float], max_side: int) -> bytes:
    """Exactly these frames as an H.264 mp4 (mpeg4 where libx264 is missing), in order, at the rate
    they were sampled at (so the video's time axis is the source's): one encoded frame per frame."""
    import av

    n = len(frames)
    span = (timestamps[-1] - timestamps[0]) if n > 1 else 0.0
    rate = Fraction((n - 1) / span).limit_denominator(1000) if span > 0 else Fraction(1)
    rate = min(max(rate, Fraction(1, 10)), Fraction(60))
    images = [fit(f, max_side, even=True) for f in frames]
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height = images[0].size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.thread_count = 1
        if codec == "libx264":  # (mbtree=0: the same frames give the same bytes, see harness.synth)
            stream.options = {"preset": "veryfast", "crf": "18", "x264-params": "mbtree=0"}
        for img in images:
            if img.size != images[0].size:
                img = img.resize(images[0].size)
            container.mux(stream.encode(av.VideoFrame.from_image(img)))
        container.mux(stream.encode())
    return out.getvalue()


def usage(out: Outcome | None, asked: str = "") -> dict[str, Any]:
    """One request's cost as its sample's record keeps it (harness.usage): attempts, tokens, answers
    cut at max_tokens, and the model the endpoint answered as (the one asked for when an answer
    named none); all zero for a request never sent."""
    if out is None:
        return {"requests": 0, "retries": 0, "prompt_tokens": 0, "completion_tokens": 0, "truncated": 0, "model": None}
    tokens = {k: out.usage.get(k, 0) for k in ("prompt_tokens", "completion_tokens")}
    answered = out.completion is not None
    return {"requests": out.requests, "retries": out.retries, **tokens,
            "truncated": int(answered and out.completion.finish_reason == "length"),
            "model": out.model or (asked if answered else None)}


def _data_url(kind: str, blob: bytes) -> str:
    return f"data:{kind};base64,{base64.b64encode(blob).decode('ascii')}"


class OpenAIChatAdapter(ModelAdapter):
    """Any OpenAI-compatible chat endpoint as the model under test (see the module docstring)."""

    name = NAME
    model_args: ClassVar[dict[str, str]] = MODEL_ARGS

    def __init__(self, **args: Any):
        s = Settings.resolve(args)
        self.settings = s
        self.model = s.model
        self.batch_size = s.batch_size
        self.args = s.recorded()
        self._fp = s.fingerprint()
        client = ChatClient(s.endpoint, s.timeout, "model",
                            f"check {s.endpoint.key_var}, --model-args model= (Azure: the deployment name), "
                            "base_url and api_version")
        self.session = Session(client, retries=s.retries, timeout=s.timeout, backoff=s.backoff, breaker=s.breaker,
                               fatal=ModelError, who="model", waiter="the harness", rerun=RERUN,
                               left="the requests not yet answered are errors of their samples (transient)")

    # -- described without a request -------------------------------------------------------------------
    @classmethod
    def check_args(cls, **args: Any) -> None:
        """Every arg known and in range, and the endpoint's credentials there (a hosted API needs a key;
        a local server does not), before anything runs."""
        Settings.resolve(args)

    @classmethod
    def check_gen_kwargs(cls, gen_kwargs: dict[str, Any]) -> None:
        sampling(gen_kwargs, None)

    @classmethod
    def describe(cls, **args: Any) -> ModelDescription:
        return ModelDescription.of(cls(**args))  # building one sends nothing: the client connects on first use

    def fingerprint(self) -> str:
        return self._fp

    def frame_policy(self) -> FramePolicy | None:
        return self.settings.policy

    def deviations(self) -> list[str]:
        return self.settings.deviations()

    def info(self) -> dict[str, Any]:
        return {"kind": "OpenAI-compatible chat endpoint", "served_model": self.model,
                **self.settings.endpoint.public()}

    # -- generation ------------------------------------------------------------------------------------
    def begin_run(self) -> None:
        self.session.reset()  # a breaker tripped in an earlier evaluate() does not fail this one's requests

    def generate(self, requests: list[Request]) -> list[Generated | GenerationFailed]:
        try:
            for r in requests:
                sampling(r.gen_kwargs, self.settings.max_tokens)
        except ConfigError as e:  # the same for every request: stop the run rather than fail each sample
            raise ModelError(str(e).split("\n")[0], hint=e.hint) from None
        return run_sync(self._generate(requests))

    async def _generate(self, requests: list[Request]) -> list[Generated | GenerationFailed]:
        sem = asyncio.Semaphore(self.settings.concurrency)
        self.session.open()

        async def one(r: Request) -> Generated | GenerationFailed:
            async with sem:
                if self.session.tripped:  # the endpoint is down: nothing is built or sent
                    return GenerationFailed(self.session.tripped, True, usage(None))
                try:  # encoding frames is CPU work that releases the GIL: off the event loop
                    body = await asyncio.to_thread(self.body, r)
                except Exception as e:  # noqa: BLE001 - a frame that cannot be encoded fails its sample only
                    return GenerationFailed(f"request not built: {type(e).__name__}: {e}", False, usage(None))
                out = await self.session.ask(body, self._accept, self.model)
            cost = usage(out, self.model)
            if out.ok:
                return Generated(out.value, cost)
            return GenerationFailed(out.reason or "no answer", out.transient, cost)

        tasks = [asyncio.create_task(one(r)) for r in requests]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:  # a ModelError (a refused key) or Ctrl-C: stop the rest
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            await self.session.close()

    @staticmethod
    def _accept(answer: Completion) -> tuple[Any, str | None]:
        """A completion is a prediction when it holds text; an empty one never is, nor one the
        endpoint's content filter cut (a final failure: asked again, it is filtered again)."""
        if answer.finish_reason == "content_filter":
            raise FinalFailure("answer cut by the content filter (finish_reason content_filter)")
        if answer.text is None or not answer.text.strip():
            return None, "empty completion" + (f" (finish_reason {answer.finish_reason})" if answer.finish_reason
                                               else "")
        return answer.text, None

    def body(self, r: Request) -> dict[str, Any]:
        """The chat request for one harness request: one user message, the frames first, then the
        task's instruction verbatim; text alone when there are no frames."""
        s = self.settings
        content: Any = r.text
        if r.frames is not None and r.modal != "text" and len(r.frames.array):
            content = [*self.media_parts(r), {"type": "text", "text": r.text}]
        return {"model": self.model, "messages": [{"role": "user", "content": content}],
                **sampling(r.gen_kwargs, s.max_tokens)}

    def media_parts(self, r: Request) -> list[dict[str, Any]]:
        s = self.settings
        assert r.frames is not None
        if s.video == "video_url" and r.modal == "video":
            blob = mp4(r.frames.array, list(r.frames.timestamps), s.max_side)
            return [{"type": "video_url", "video_url": {"url": _data_url("video/mp4", blob)}}]
        parts = []
        for frame in r.frames.array:
            image: dict[str, Any] = {"url": _data_url("image/jpeg", jpeg(frame, s.max_side, s.jpeg_quality))}
            if s.detail:
                image["detail"] = s.detail
            parts.append({"type": "image_url", "image_url": image})
        return parts
