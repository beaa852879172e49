"""The `openai` model adapter (issue 18): the model under test behind an OpenAI-compatible chat endpoint.

Through the real openai client against the local fault-injecting server (tests/judge_server.py,
127.0.0.1 only), which keeps every request body: the frames the harness sampled arrive as JPEGs of
those pixels (or one mp4 of them), then the task's instruction verbatim, in one user message; faults
are retried, then become per-sample errors with their reasons that a rerun computes again; usage and
cost land in results.json; no key reaches any output. Timeouts and backoff are tiny; nothing is timed.
"""

from __future__ import annotations

import base64
import fcntl
import io
import json
import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from harness.chat import estimate_cost
from harness.cli import main
from harness.config import RunConfig
from harness.demo import demo_root
from harness.errors import ConfigError, ModelError
from harness.model import Generated, GenerationFailed, UnloadedModel
from harness.models.adapters.openai_chat import OpenAIChatAdapter, sampling
from harness.records import read_records
from harness.registry import get_task_class
from harness.runner import evaluate, load_task
from harness.types import FramePolicy, Frames, MediaRef, Request
from harness.video import read_frames
from tests.judge_server import JudgeServer, only_openai_key
from tests.toy import FlakyAdapter

KEY = "sk-test-MODEL-DO-NOT-LEAK-9876543210zyxwv"
AZURE_KEY = "azure-MODEL-DO-NOT-LEAK-13579"
SERVED = "served-x"
FAST = "retries=1,backoff=0.001,timeout=5"


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """The demo sets these tests read, built once for all workers (the others wait for it)."""
    root = tmp_path_factory.getbasetemp().parent / "openai-adapter-cache"
    root.mkdir(exist_ok=True)
    with open(root / ".lock", "w") as lock, pytest.MonkeyPatch.context() as mp:
        fcntl.flock(lock, fcntl.LOCK_EX)
        mp.setenv("HARNESS_CACHE", str(root))
        for name in ("mvbench", "egoschema"):
            demo_root(get_task_class(name))
    return root


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, cache_dir):
    only_openai_key(monkeypatch, KEY)
    monkeypatch.setenv("HARNESS_CACHE", str(cache_dir))


def run(server: JudgeServer, out: Path, args: str = "", limit: int = 4, *extra: str) -> int:
    spec = f"model={SERVED},base_url={server.url}/v1,{FAST}" + (f",{args}" if args else "")
    return main(["run", "--model", "openai", "--model-args", spec, "--tasks", "mvbench", "--limit", str(limit),
                 "--output-dir", str(out), "--no-progress", *extra])


def decode_image(url: str) -> np.ndarray:
    assert url.startswith("data:image/jpeg;base64,"), url[:40]
    img = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert img.format == "JPEG"
    return np.asarray(img.convert("RGB"))


def decode_video(url: str) -> int:
    import av

    assert url.startswith("data:video/mp4;base64,"), url[:40]
    with av.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as container:
        return sum(1 for _ in container.decode(video=0))


def shrink(frame: np.ndarray, max_side: int) -> np.ndarray:
    """The harness frame as the request should carry it, shrunk here with another filter (box)."""
    h, w = frame.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(frame).resize(size, Image.Resampling.BOX)) if scale < 1 else frame


def everything_written(root: Path) -> bytes:
    return b"".join(f.read_bytes() for f in root.rglob("*") if f.is_file())


def frames(n: int = 3, h: int = 48, w: int = 64, seed: int = 0) -> Frames:
    rng = np.random.default_rng(seed)
    return Frames(rng.integers(0, 256, (n, h, w, 3), dtype=np.uint8), list(range(n)), [i / 4 for i in range(n)])


def requests(n: int, tag: str = "") -> list[Request]:
    return [Request(f"s{i}", f"{tag}question {i}?", frames(2, seed=i), "video", {"do_sample": False,
                                                                                  "max_new_tokens": 8})
            for i in range(n)]


def adapter(server: JudgeServer, **args) -> OpenAIChatAdapter:
    settings = {"model": SERVED, "base_url": server.url + "/v1", "retries": 1, "backoff": 0.001, "timeout": 5,
                **args}
    return OpenAIChatAdapter(**settings)


# -- end to end: what is sent, what is scored, what is written --------------------------------------------
def test_a_run_sends_the_sampled_frames_and_the_instruction_and_scores(tmp_path, capsys, caplog):
    caplog.set_level(logging.DEBUG)  # the client's own debug logs must not carry the key either
    out = tmp_path / "o"
    loaded = load_task("mvbench", RunConfig(output_dir=out, limit=6))
    task, samples = loaded.task, loaded.samples
    instructions = {s.id: task.prompt(s) for s in samples}  # the task's official instruction of each sample
    answers = {task.prompt(s): s.answer for s in samples}  # the instruction -> its correct letter

    def script(system: str, user: str) -> str | None:
        return f"({answers[user]})" if user in answers else "not a question I know"

    with JudgeServer(keep_bodies=True, script=script, served_model=SERVED, echo_key=True) as server:
        assert run(server, out, "max_side=32", 6) == 0
        sent = server.requests
        bodies = list(server.bodies)
        assert {e["auth"] for e in server.log} == {f"Bearer {KEY}"}
        assert run(server, out, "max_side=32", 6) == 0  # finished: a rerun sends nothing
        assert server.requests == sent == 6
    printed = capsys.readouterr()
    assert "nothing to compute" in printed.out

    for body in bodies:  # the request: one user message, the frames then the instruction, greedy
        assert set(body) == {"model", "messages", "temperature", "max_tokens"}, body.keys()
        assert body["model"] == SERVED and body["temperature"] == 0 and body["max_tokens"] == 2048
        [message] = body["messages"]
        assert message["role"] == "user"
        *images, text = message["content"]
        assert text["type"] == "text" and text["text"] in answers
        assert images and all(p["type"] == "image_url" and set(p["image_url"]) == {"url"} for p in images)

    records = read_records(out / "samples" / "mvbench.jsonl")
    assert len(records) == 6 and all(r["error"] is None for r in records)
    for rec in records:  # some request carried exactly this sample's frames, as JPEGs of those pixels
        harness_frames = read_frames(MediaRef(**rec["media"]), FramePolicy.parse(rec["frames"]["policy"]))
        assert harness_frames.indices == rec["frames"]["indices"]
        want = [shrink(f, 32) for f in harness_frames.array]
        instruction = instructions[rec["id"]]

        def carries(body: dict, want: list[np.ndarray] = want, instruction: str = instruction) -> bool:
            *images, text = body["messages"][0]["content"]
            if text["text"] != instruction or len(images) != len(want):
                return False
            got = [decode_image(p["image_url"]["url"]) for p in images]
            return all(g.shape == w.shape and np.abs(g.astype(int) - w).mean() < 8 for g, w in zip(got, want))

        assert any(carries(b) for b in bodies), rec["id"]
    received = [decode_image(p["image_url"]["url"]) for b in bodies for p in b["messages"][0]["content"][:-1]]
    assert received and {max(img.shape[:2]) for img in received} == {32}  # the 64 px demo frames, per max_side

    res = json.loads((out / "results.json").read_text())
    t = res["tasks"]["mvbench"]
    assert t["n_errors"] == 0 and t["metrics"]["accuracy"] > 0
    # summed from the records: the finished rerun asked nothing and keeps what the samples cost
    assert t["model_usage"]["requests"] == 6 and t["model_usage"]["prompt_tokens"] == 300
    assert res["model"]["args"]["base_url"] == f"{server.url}/v1" and res["model"]["info"]["key_env"] == "OPENAI_API_KEY"
    text = (printed.out + printed.err + caplog.text).encode() + everything_written(tmp_path)
    assert KEY[:12].encode() not in text  # not the key, nor a part of it


def test_usage_and_cost_per_task_in_results(tmp_path, capsys):
    with JudgeServer(served_model="gpt-4o-mini-2024-07-18") as server:
        spec = f"model=gpt-4o-mini,base_url={server.url}/v1,{FAST}"
        assert main(["run", "--model", "openai", "--model-args", spec, "--tasks", "mvbench,egoschema", "--limit", "3",
                     "--output-dir", str(tmp_path / "o"), "--no-progress"]) == 0
        assert server.requests == 6
    tasks = json.loads((tmp_path / "o" / "results.json").read_text())["tasks"]
    for name in ("mvbench", "egoschema"):
        u = tasks[name]["model_usage"]
        assert u["requests"] == 3 and u["retries"] == 0 and u["failed"] == 0
        assert u["prompt_tokens"] == 150 and u["completion_tokens"] == 30  # the server's usage, 50 + 10 a request
        assert u["estimated_cost_usd"] == pytest.approx((150 * 0.15 + 30 * 0.6) / 1e6, abs=1e-6)
        assert u["models_returned"] == ["gpt-4o-mini-2024-07-18"] and u["substituted"] == ["gpt-4o-mini-2024-07-18"]
        assert u["breaker_tripped"] is False and tasks[name]["n_errors_transient"] == 0
    # the snapshot behind the alias is said, as the judge says its own
    assert "answered as gpt-4o-mini-2024-07-18, not the requested gpt-4o-mini" in capsys.readouterr().err


@pytest.mark.parametrize("returned, price", [
    ("gpt-4.1-nano", (0.1, 0.4)), ("gpt-4.1-nano-2025-04-14", (0.1, 0.4)), ("gpt-4.1-mini-2025-04-14", (0.4, 1.6)),
    ("gpt-4.1", (2.0, 8.0)), ("gpt-4o-mini-2024-07-18", (0.15, 0.6)), ("gpt-4o-2024-08-06", (2.5, 10.0)),
    ("gpt-4o-2024-05-13", (5.0, 15.0)), ("gpt-4o-mini-search-preview-2025-03-11", (0.15, 0.6)),
    ("gpt-35-turbo-0125", (0.5, 1.5)),
    ("gpt-4.1-ultra", None), ("gpt-4o-mini-served", None), ("gpt-4o-transcribe", None), ("qwen2-vl", None)])
def test_a_model_is_priced_by_its_whole_name_or_its_snapshot_never_by_a_prefix(returned, price):
    """gpt-4.1-nano is not gpt-4.1: a name is priced when it is listed, or is a listed name and a
    snapshot date; anything else is unknown (None), never another model's price."""
    cost = estimate_cost({returned: {"prompt_tokens": 1_000_000, "completion_tokens": 1_000_000}})
    assert cost == (None if price is None else pytest.approx(sum(price)))


def test_video_url_sends_one_mp4_of_exactly_the_sampled_frames(tmp_path):
    out = tmp_path / "o"
    with JudgeServer(keep_bodies=True, script=lambda s, u: "(A)", served_model=SERVED) as server:
        assert run(server, out, "video=video_url,num_frames=6", 3) == 0
    records = {r["id"]: r for r in read_records(out / "samples" / "mvbench.jsonl")}
    assert {len(r["frames"]["indices"]) for r in records.values()} == {6}
    for body in server.bodies:
        [video, text] = body["messages"][0]["content"]
        assert video["type"] == "video_url" and text["type"] == "text" and text["text"].startswith("Question: ")
        assert decode_video(video["video_url"]["url"]) == 6


@pytest.mark.parametrize("fault, reason", [("429", "HTTP 429 rate limited"), ("hang", "timed out after 0.5 s")])
def test_endpoint_failures_are_sample_errors_and_a_rerun_computes_only_those(fault, reason, tmp_path, capsys):
    out = tmp_path / "o"
    with JudgeServer(fail_first=0, hang=1.5, retry_after="0.01", served_model=SERVED) as server:
        assert run(server, out, "timeout=5", 3) == 0  # three samples answered
        server.faults, server.fault_rate = (fault,), 1.0  # then the endpoint fails everything
        assert run(server, out, "timeout=5" if fault == "429" else "timeout=0.5", 6) == 1
        err = capsys.readouterr().err
        records = read_records(out / "samples" / "mvbench.jsonl")
        failed = [r for r in records if r["error"]]
        assert len(failed) == 3 and all(r.get("transient") is True and r["prediction"] is None for r in failed)
        assert all(reason in r["error"] and "(after 2 attempts)" in r["error"] for r in failed), failed[0]["error"]
        assert "3 failed on the model endpoint or ran out of memory (marked transient): rerun the same `harness run`" in err
        usage = json.loads((out / "results.json").read_text())["tasks"]["mvbench"]["model_usage"]
        assert usage["requests"] == 3 + 6 and usage["retries"] == 3 and usage["failed_transient"] == 3
        assert usage["failure_reasons"] == {reason.split(" (")[0]: 3} and usage["prompt_tokens"] == 150
        asked = server.requests
        server.fault_rate = 0.0  # the endpoint recovers: the same command computes the three failed only
        assert run(server, out, "timeout=5" if fault == "429" else "timeout=0.5", 6) == 0
        assert server.requests == asked + 3
    records = read_records(out / "samples" / "mvbench.jsonl")
    assert len(records) == 6 and all(r["error"] is None and r["prediction"] and "transient" not in r for r in records)
    assert all(r["usage"] == {"requests": 1, "retries": 0, "prompt_tokens": 50, "completion_tokens": 10, "truncated": 0,
                              "model": SERVED} for r in records)  # the failed copies' cost went with them
    usage = json.loads((out / "results.json").read_text())["tasks"]["mvbench"]["model_usage"]
    assert usage["requests"] == 6 and usage["failed"] == 0 and usage["failure_reasons"] == {}


def test_a_refused_key_stops_the_run_and_is_never_echoed(tmp_path, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    with JudgeServer(key="sk-the-right-one") as server:  # its 401 echoes the key it was given
        assert run(server, tmp_path / "o", "batch_size=2,concurrency=1", 20) == 2
        assert server.requests == 1  # the first request, and nothing after: not its batch, not the next ones
    err = capsys.readouterr().err
    assert "HTTP 401: the key was refused" in err and "[redacted]" in err and "OPENAI_API_KEY" in err
    assert KEY[:12] not in err + caplog.text
    assert KEY[:12].encode() not in everything_written(tmp_path)


# -- the adapter against each fault ------------------------------------------------------------------------
@pytest.mark.parametrize("fault", ["429", "500", "hang", "drop", "html", "empty"])
def test_a_fault_once_is_retried(fault):
    with JudgeServer(faults=(fault,), fail_first=1, hang=1.0, served_model=SERVED) as server:
        model = adapter(server, timeout=0.5, retries=2)
        got = model.generate(requests(4, fault))
        assert server.requests == 8  # every request failed once, then answered
    assert all(isinstance(g, Generated) and g.text for g in got), got
    assert all(g.usage["requests"] == 2 and g.usage["retries"] == 1 and g.usage["model"] == SERVED for g in got)


REASONS = {"429": ("HTTP 429 rate limited", True), "500": ("HTTP 500", True), "503": ("HTTP 503", True), "hang": ("timed out after 0.3 s", True),
           "drop": ("connection failed", True), "truncated": ("bad response: ValueError: body is not JSON", True),
           "big": ("response over 1048576 bytes", True), "400": ("HTTP 400", False),
           "empty": ("empty completion", False), "no_choices": ("empty completion", False),
           "filtered": ("answer cut by the content filter (finish_reason content_filter)", False)}


@pytest.mark.parametrize("fault", sorted(REASONS))
def test_a_fault_that_lasts_is_a_failure_with_its_reason_never_an_empty_prediction(fault):
    reason, transient = REASONS[fault]
    with JudgeServer(faults=(fault,), fault_rate=1.0, hang=1.0, big=4 << 20) as server:
        model = adapter(server, timeout=0.3, retries=1, breaker=0)
        got = model.generate(requests(3, fault))
    assert all(isinstance(g, GenerationFailed) and g.transient is transient and reason in g.reason for g in got), got
    for g in got:  # (a first attempt may time out on a busy machine: the counts are checked against each other)
        assert g.usage and g.usage["requests"] == g.usage["retries"] + 1
        if fault in ("400", "filtered"):  # a refusal of this request, or an answer the filter cut: not asked again
            assert "(after" not in g.reason and g.usage["model"] == (None if fault == "400" else "served-x-served")
        else:
            assert "(after 2 attempts)" in g.reason


def test_an_endpoint_that_keeps_failing_trips_the_breaker_and_is_not_asked_again(caplog):
    caplog.set_level(logging.WARNING)
    with JudgeServer(faults=("503",), fault_rate=1.0, retry_after="0.001") as server:
        model = adapter(server, retries=1, breaker=3, concurrency=4)
        first = model.generate(requests(40))
        asked = server.requests
        later = model.generate(requests(10, "next batch"))  # the next batch: nothing is sent
        assert server.requests == asked <= 2 * 4
    assert all(isinstance(g, GenerationFailed) and g.transient for g in first + later)
    skipped = [g for g in first + later if g.reason.startswith("endpoint kept failing")]
    assert len(skipped) >= 50 - asked and "HTTP 503" in skipped[0].reason and "rerun the same command" in skipped[0].reason
    assert sum(g.usage["requests"] for g in first + later) == asked  # every request sent, counted once
    assert "the model endpoint kept failing" in caplog.text


def test_azure_deployment_path_version_and_key_header(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    with JudgeServer(served_model="gpt-4o-2024-08-06") as server:
        args = {"provider": "azure", "model": "gpt4o-dep", "base_url": server.url, "api_version": "2024-06-01"}
        with pytest.raises(ConfigError, match="AZURE_OPENAI_API_KEY"):
            OpenAIChatAdapter.check_args(**args)
        monkeypatch.setenv("AZURE_OPENAI_API_KEY", AZURE_KEY)
        model = OpenAIChatAdapter(**args)
        assert all(isinstance(g, Generated) for g in model.generate(requests(2)))
    assert {e["path"] for e in server.log} == {"/openai/deployments/gpt4o-dep/chat/completions"}
    assert {e["auth"] for e in server.log} == {AZURE_KEY}  # the api-key header
    assert model.info()["key_env"] == "AZURE_OPENAI_API_KEY" and AZURE_KEY not in json.dumps(model.args | model.info())


def test_text_only_requests_send_text_only_and_the_named_key_variable_is_used(monkeypatch):
    monkeypatch.setenv("MY_ENDPOINT_TOKEN", "tok-MY-OWN-0192837465")
    with JudgeServer(keep_bodies=True, served_model=SERVED) as server:
        model = adapter(server, api_key_env="MY_ENDPOINT_TOKEN")
        model.generate([Request("t", "What is 2+2?", None, "text", {"max_new_tokens": 4})])
    assert server.bodies[0]["messages"] == [{"role": "user", "content": "What is 2+2?"}]
    assert server.log[0]["auth"] == "Bearer tok-MY-OWN-0192837465"
    assert "MY_ENDPOINT_TOKEN" in json.dumps(model.args) and "tok-MY-OWN" not in json.dumps(model.args)


# -- what is refused, and what the fingerprint covers ----------------------------------------------------
BAD = {"no-model": ("base_url=http://127.0.0.1:9/v1", "model=NAME"),
       "provider": ("model=m,provider=gcp,base_url=http://127.0.0.1:9/v1", "provider"),
       "video": ("model=m,video=gif,base_url=http://127.0.0.1:9/v1", "video"),
       "detail": ("model=m,detail=ultra,base_url=http://127.0.0.1:9/v1", "detail"),
       "jpeg": ("model=m,jpeg_quality=0,base_url=http://127.0.0.1:9/v1", "jpeg_quality"),
       "max-side": ("model=m,max_side=-1,base_url=http://127.0.0.1:9/v1", "max_side"),
       "frames-twice": ("model=m,num_frames=8,fps=1,base_url=http://127.0.0.1:9/v1", "num_frames and fps"),
       "timeout": ("model=m,timeout=0,base_url=http://127.0.0.1:9/v1", "timeout"),
       "not-http": ("model=m,base_url=ftp://host/v1", "http(s)"),
       "hosted-no-key": ("model=gpt-4o", "OPENAI_API_KEY"),
       "azure-no-version": ("model=d,provider=azure,base_url=https://x.openai.azure.com", "API version"),
       "a-key-as-arg": (f"model=m,api_key={KEY},base_url=http://127.0.0.1:9/v1", "a key is never a model arg"),
       "a-key-as-env-name": (f"model=m,api_key_env={KEY},base_url=http://127.0.0.1:9/v1", "NAME of an environment")}


@pytest.mark.parametrize("spec, word", BAD.values(), ids=list(BAD))
def test_bad_args_are_refused_before_anything_runs(spec, word, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")  # a local server needs none; a hosted API does
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", AZURE_KEY)
    argv = ["run", "--model", "openai", "--model-args", spec, "--tasks", "mvbench", "--output-dir", str(tmp_path / "o"),
            "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert word in err and "Traceback" not in err and KEY[:12] not in err, err
    assert not (tmp_path / "o").exists()


def test_generation_settings_the_api_cannot_honour_are_refused_and_the_rest_mapped(tmp_path, capsys):
    argv = ["run", "--model", "openai", "--model-args", "model=m,base_url=http://127.0.0.1:9/v1", "--tasks", "mvbench",
            "--output-dir", str(tmp_path / "o"), "--no-progress", "--gen-kwargs", "num_beams=2"]
    assert main(argv) == 2 and "num_beams" in capsys.readouterr().err and not (tmp_path / "o").exists()
    assert sampling({"do_sample": False, "max_new_tokens": 2048, "temperature": 0.7}, None) == {
        "temperature": 0, "max_tokens": 2048}
    assert sampling({"do_sample": True, "temperature": 0.7, "top_p": 0.9, "seed": 3, "max_new_tokens": 64}, 32) == {
        "temperature": 0.7, "top_p": 0.9, "max_tokens": 32, "seed": 3}
    with pytest.raises(ConfigError, match="top_k"):
        sampling({"do_sample": True, "top_k": 5}, None)
    with pytest.raises(ModelError, match="repetition_penalty"):  # through the API, a setting for every request
        OpenAIChatAdapter(model="m", base_url="http://127.0.0.1:9/v1").generate(
            [Request("a", "q", None, "text", {"repetition_penalty": 1.2})])


def test_the_fingerprint_names_the_endpoint_model_and_output_settings_never_the_key(monkeypatch):
    base = {"model": "m", "base_url": "http://127.0.0.1:9/v1"}

    def fp(**args) -> str:
        return OpenAIChatAdapter(**{**base, **args}).fingerprint()

    ref = fp()
    described = OpenAIChatAdapter.describe(**base)  # no server at that address: describing sends nothing
    assert described.fingerprint == ref and UnloadedModel(described).fingerprint() == ref
    for same in ({"concurrency": 3}, {"retries": 0}, {"timeout": 9}, {"backoff": 0}, {"batch_size": 2},
                 {"breaker": 0}, {"api_key_env": "OTHER_VAR"}, {"base_url": "http://u:secret@127.0.0.1:9/v1?token=t"}):
        assert fp(**same) == ref, same
    monkeypatch.setenv("OPENAI_API_KEY", "sk-another-key-entirely")
    assert fp() == ref
    changed = [fp(model="m2"), fp(base_url="http://127.0.0.1:10/v1"), fp(num_frames=16), fp(fps=1), fp(max_side=512),
               fp(jpeg_quality=80), fp(detail="low"), fp(video="video_url"), fp(max_tokens=16)]
    assert len({ref, *changed}) == len(changed) + 1
    recorded = OpenAIChatAdapter(**{**base, "base_url": "http://u:secret@127.0.0.1:9/v1?token=t"}).args
    assert recorded["base_url"] == "http://127.0.0.1:9/v1" and "secret" not in json.dumps(recorded)


def test_harness_list_models_shows_openai_with_its_args(capsys):
    assert main(["list", "models"]) == 0
    out = capsys.readouterr().out
    assert "\nopenai " in out
    for arg in ("model", "base_url", "provider", "api_key_env", "num_frames", "fps", "max_side", "jpeg_quality",
                "detail", "video", "concurrency", "retries", "timeout", "backoff", "max_tokens", "batch_size"):
        assert f"    {arg} " in out, arg


# -- the contract: a per-request failure, without sending the batch again ----------------------------------
def test_a_failed_request_fails_its_sample_only_and_a_rerun_computes_only_the_transient_ones(tmp_path):
    cfg = RunConfig(output_dir=tmp_path / "out", task_options={"toy": {"n": 20}}, progress=False, max_error_rate=1)
    first = FlakyAdapter(batch_size=8)
    res = evaluate(first, ["tests.toy:ToyTask"], cfg)
    assert first.calls == 20 and first.batches == 3  # no sample of a batch was sent again
    records = {r["id"]: r for r in read_records(tmp_path / "out" / "samples" / "toy.jsonl")}
    for i in range(20):
        r = records[f"q{i:05d}"]
        if i % 5 == 0:
            assert r["error"] == "generation failed: refused: content filter" and "transient" not in r
        elif i % 5 == 1:
            assert r["error"] == "generation failed: HTTP 503 (after 5 attempts)" and r["transient"] is True
        else:
            assert r["error"] is None and r["prediction"]
        assert (r["state"] == "error") == (i % 5 in (0, 1))
    assert res["tasks"]["toy"]["n_errors"] == 8 and res["tasks"]["toy"]["n_errors_transient"] == 4
    healed = FlakyAdapter(down=0)
    res = evaluate(healed, ["tests.toy:ToyTask"], cfg)
    assert healed.calls == 4  # the four transient failures, nothing else
    assert res["tasks"]["toy"]["n_errors"] == 4 and res["tasks"]["toy"]["n_errors_transient"] == 0
    again = FlakyAdapter(down=0)
    evaluate(again, ["tests.toy:ToyTask"], cfg)
    assert again.calls == 0  # the final failures stay what they are
    kept = read_records(tmp_path / "out" / "samples" / "toy.jsonl")
    assert len(kept) == 20 and sum(1 for r in kept if r["error"]) == 4


def test_a_transient_failure_that_fails_again_is_merged_at_once_even_beside_an_older_copy(tmp_path):
    """An earlier run died before its merge, leaving its transient copies in a rank file; the rerun's
    new (again transient) copies are this run's: the merge takes them and never waits for others."""
    cfg = RunConfig(output_dir=tmp_path / "out", task_options={"toy": {"n": 20}}, progress=False, max_error_rate=1,
                    merge_timeout=3)
    evaluate(FlakyAdapter(), ["tests.toy:ToyTask"], cfg)
    samples = tmp_path / "out" / "samples"
    (samples / "toy.jsonl").rename(samples / "toy.rank1.jsonl")  # as a run killed before its merge leaves it
    again = FlakyAdapter()
    res = evaluate(again, ["tests.toy:ToyTask"], cfg)  # the endpoint still fails those four
    assert again.calls == 4 and res["tasks"]["toy"]["n_errors_transient"] == 4
    assert [p.name for p in samples.iterdir()] == ["toy.jsonl"]
    records = read_records(samples / "toy.jsonl")
    assert len(records) == 20 and sum(1 for r in records if r.get("transient")) == 4
    healed = FlakyAdapter(down=0)
    res = evaluate(healed, ["tests.toy:ToyTask"], cfg)
    assert healed.calls == 4 and res["tasks"]["toy"]["n_errors_transient"] == 0


class Killed(BaseException):
    """The process dying mid-run (not an Exception: nothing in the harness catches it)."""


class DiesMidway(FlakyAdapter):
    def __init__(self, die_at: int, **args):
        super().__init__(**args)
        self.die_at = die_at

    def generate(self, requests: list[Request]) -> list:
        if self.batches == self.die_at:
            raise Killed
        return super().generate(requests)


def test_model_usage_is_summed_from_the_records_so_a_resumed_run_counts_both_halves(tmp_path):
    toy = {"toy": {"n": 20}}
    clean = tmp_path / "clean"
    ref = evaluate(FlakyAdapter(), ["tests.toy:ToyTask"], RunConfig(output_dir=clean, task_options=toy, progress=False,
                                                                  max_error_rate=1))
    usage = ref["tasks"]["toy"]["model_usage"]
    # 12 answered (1 request each), 4 refused (1 request), 4 failed on the endpoint (5 requests, 4 retries)
    assert usage["requests"] == 12 + 4 + 4 * 5 and usage["retries"] == 16 and usage["completion_tokens"] == 12
    assert usage["failed"] == 8 and usage["failed_transient"] == 4
    assert usage["failure_reasons"] == {"HTTP 503": 4, "refused": 4}
    assert usage["models_returned"] == [FlakyAdapter.SERVED] and usage["substituted"] == []
    assert usage["estimated_cost_usd"] is None  # not a model the price table lists
    cfg = RunConfig(output_dir=tmp_path / "o", task_options=toy, progress=False, max_error_rate=1)
    with pytest.raises(Killed):
        evaluate(DiesMidway(die_at=3), ["tests.toy:ToyTask"], cfg)  # 3 batches of 4 written, then killed
    assert len(read_records(tmp_path / "o" / "samples" / "toy.rank0.jsonl")) == 12
    rest = FlakyAdapter()
    res = evaluate(rest, ["tests.toy:ToyTask"], cfg)
    assert rest.calls == 8 + 3  # the second half, and the first half's transient failures (q1, q6, q11) again
    assert res["tasks"]["toy"]["model_usage"] == usage  # both halves: as the uninterrupted run
    assert (tmp_path / "o" / "samples" / "toy.jsonl").read_bytes() == (clean / "samples" / "toy.jsonl").read_bytes()
    assert main(["score", str(tmp_path / "o"), "--no-progress", "--max-error-rate", "1"]) == 0  # rescored: the same
    assert json.loads((tmp_path / "o" / "results.json").read_text())["tasks"]["toy"]["model_usage"] == usage


def test_the_breaker_trips_per_evaluate_and_a_reused_adapter_asks_again_in_the_next(tmp_path):
    cfg = RunConfig(output_dir=tmp_path / "o", limit=4, progress=False, max_error_rate=1)
    with JudgeServer(faults=("503",), fault_rate=1.0, retry_after="0.001", served_model=SERVED) as server:
        model = adapter(server, retries=1, breaker=2, concurrency=1)
        res = evaluate(model, ["mvbench"], cfg)
        t = res["tasks"]["mvbench"]
        assert server.requests == 2 and t["n_errors_transient"] == 4  # the first sample tripped it
        assert t["model_usage"]["breaker_tripped"] and "HTTP 503" in t["model_usage"]["breaker_reason"]
        assert t["model_usage"]["failure_reasons"] == {"HTTP 503": 1, "endpoint kept failing": 3}
        server.fault_rate = 0.0  # the endpoint recovers: the same adapter, in a later evaluate(), asks again
        res = evaluate(model, ["mvbench"], cfg)
        assert server.requests == 2 + 4
    t = res["tasks"]["mvbench"]
    assert t["n_errors"] == 0 and not t["model_usage"]["breaker_tripped"] and t["model_usage"]["requests"] == 4
