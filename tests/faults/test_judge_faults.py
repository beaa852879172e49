"""The judge against an endpoint that misbehaves (issue 19, items 5-9): a key echoed in what it
returns, another endpoint behind the same model name, failures that are over when it comes back,
an endpoint that keeps refusing, a body of any size. Through the real openai client against the
local fault-injecting server (tests/judge_server.py, 127.0.0.1 only); timeouts and backoff tiny."""

from __future__ import annotations

import json
import logging
import time
import tracemalloc
from pathlib import Path

import pytest

from harness.cli import main
from harness.judge import Judge, JudgeConfig
from tests.judge_server import JudgeServer, only_openai_key
from tests.judge_server import qa_items as items

KEY = "sk-test-DO-NOT-LEAK-0123456789abcdefXYZ"
RERUN = "rerun `harness score OUTDIR` when the endpoint answers again"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    only_openai_key(monkeypatch, KEY)


def judge(url: str, cache: Path, **kw) -> Judge:
    # a 2 s timeout: on a loaded 2-core machine a healthy answer can take longer than 0.5 s
    settings = {"concurrency": 8, "retries": 2, "timeout": 2.0, "backoff": 0.001, **kw}
    return Judge(JudgeConfig(provider="openai", model="judge-x", base_url=url + "/v1", **settings), cache)


def everything_written(*roots: Path) -> bytes:
    return b"".join(f.read_bytes() for root in roots for f in root.rglob("*") if f.is_file())


# -- 5: a credential echoed by the endpoint -----------------------------------------------------------
def test_a_key_echoed_by_the_endpoint_reaches_no_result_sample_cache_or_stat(tmp_path, monkeypatch, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    # the model field echoes the Authorization header; unparseable answers echo the key after 70
    # characters, where a reason cut at 80 characters before redaction keeps the key's first 10
    def script(system: str, user: str) -> str | None:
        return "x" * 70 + KEY + " and no verdict" if "q1" in user else None

    with JudgeServer(echo_key=True, script=script) as server:
        j = judge(server.url, tmp_path / "direct", retries=0)
        verdicts = j.run(items(3), progress=False)
        code = main(["run", "--model", "oracle", "--tasks", "activitynet_qa", "--output-dir", str(tmp_path / "o"),
                     "--no-progress", "--max-unscored-rate", "1",
                     "--judge", f"base_url={server.url}/v1,timeout=2,backoff=0.001,concurrency=8"])
    assert code == 0 and server.requests > 3
    assert verdicts[0].model == "judge-x-served (Bearer [redacted])" and verdicts[1].data is None
    printed = capsys.readouterr()
    text = (json.dumps([v.__dict__ for v in verdicts]) + json.dumps(j.stats()) + printed.out + printed.err
            + caplog.text).encode() + everything_written(tmp_path)
    assert (tmp_path / "o" / "results.json").exists() and any(tmp_path.rglob("judge.sqlite"))
    assert KEY[:10].encode() not in text  # not the key, nor any part of it a truncation left
    res = json.loads((tmp_path / "o" / "results.json").read_text())
    assert res["tasks"]["activitynet_qa"]["judge"]["stats"]["models_returned"] == [
        "gpt-3.5-turbo-0125-served (Bearer [redacted])"]


# -- 6: the endpoint is part of the cache key ----------------------------------------------------------
def test_verdicts_from_one_endpoint_are_never_reused_for_another(tmp_path):
    with JudgeServer() as a, JudgeServer(script=lambda s, u: "{'pred': 'yes', 'score': 5}") as b:
        first = judge(a.url, tmp_path).run(items(6), progress=False)
        again = judge(a.url, tmp_path).run(items(6), progress=False)  # the same endpoint: all cached
        assert a.requests == 6 and all(v.cached for v in again)
        other = judge(b.url, tmp_path).run(items(6), progress=False)  # same model name, another server
        assert b.requests == 6 and not any(v.cached for v in other)
        assert [v.data for v in other] != [v.data for v in first]


def test_the_cache_key_names_the_endpoint_and_deployment_never_a_credential(tmp_path, monkeypatch):
    it = items(1)[0]

    def key(**cfg) -> str:
        return Judge(JudgeConfig(**cfg), tmp_path).cache_key(it)

    base = key(base_url="https://judge.example/v1")
    assert key(base_url="https://user:secret@judge.example/v1?token=abc") == base  # credentials are not the endpoint
    monkeypatch.setenv("OPENAI_API_KEY", "sk-another-key-entirely")
    assert key(base_url="https://judge.example/v1") == base
    assert len({base, key(base_url="https://other.example/v1"), key(base_url="https://judge.example:8443/v1"),
                key()}) == 4  # key(): api.openai.com
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-key-1")
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-02-01")
    az = key(provider="azure", model="dep1", base_url="https://a.openai.azure.com")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-key-2")
    assert key(provider="azure", model="dep1", base_url="https://a.openai.azure.com") == az
    assert len({az, key(provider="azure", model="dep1", base_url="https://b.openai.azure.com"),
                key(provider="azure", model="dep2", base_url="https://a.openai.azure.com")}) == 3


# -- 7: only final verdicts are cached ----------------------------------------------------------------
@pytest.mark.parametrize("fault, reason", [("drop", "connection failed"), ("hang", "timed out"),
                                           ("429", "HTTP 429"), ("500", "HTTP 500"), ("503", "HTTP 503")])
def test_a_transient_failure_is_not_cached_and_a_rerun_asks_again(fault, reason, tmp_path):
    with JudgeServer(faults=(fault,), fault_rate=1.0, hang=1.0) as server:
        first = judge(server.url, tmp_path, retries=1, timeout=0.3)
        verdicts = first.run(items(4), progress=False)
        assert all(v.data is None and reason in v.reason and RERUN in v.reason for v in verdicts), verdicts[0].reason
        s = first.stats()
        assert s["unscored"] == s["unscored_transient"] == 4 and len(first.cache) == 0
        asked = server.requests
        server.fault_rate = 0.0  # the endpoint answers again
        again = judge(server.url, tmp_path)
        assert all(v.data is not None for v in again.run(items(4), progress=False))
        assert server.requests == asked + 4 and again.stats()["unscored_transient"] == 0


@pytest.mark.parametrize("fault, reason", [("400", "HTTP 400"), ("wrong_keys", "unparseable answer")])
def test_a_final_failure_is_cached_and_not_asked_again(fault, reason, tmp_path):
    with JudgeServer(faults=(fault,), fault_rate=1.0) as server:
        first = judge(server.url, tmp_path, retries=1)
        verdicts = first.run(items(4), progress=False)
        assert all(v.data is None and reason in v.reason and RERUN not in v.reason for v in verdicts)
        assert first.stats()["unscored_transient"] == 0 and len(first.cache) == 4
        asked = server.requests
        server.fault_rate = 0.0
        assert all(v.data is None and v.cached for v in judge(server.url, tmp_path).run(items(4), progress=False))
        assert server.requests == asked


# -- 8: an endpoint that keeps refusing ----------------------------------------------------------------
def test_an_endpoint_that_keeps_refusing_trips_the_breaker_instead_of_waiting_for_hours(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    with JudgeServer(faults=("429",), fault_rate=1.0, retry_after="3600") as server:
        j = judge(server.url, tmp_path, retries=4, backoff=1.0)  # the defaults but concurrency: 8
        t0 = time.monotonic()
        verdicts = j.run(items(200), progress=False)
        elapsed = time.monotonic() - t0
        assert elapsed < 5 and server.requests <= 20 + 8  # N refusals, plus what was in flight then
        later = j.run(items(50, tag="next chunk"), progress=False)  # the same judge, the next chunk of samples
        assert server.requests <= 28
    assert all(v.data is None and RERUN in v.reason for v in verdicts + later)
    skipped = [v for v in verdicts + later if v.reason.startswith("endpoint kept failing")]
    assert len(skipped) >= 250 - 28 and "HTTP 429" in skipped[0].reason and "Retry-After 3600 s" in skipped[0].reason
    s = j.stats()
    assert s["unscored_transient"] == 250 and s["breaker_tripped"] and "HTTP 429" in s["breaker_reason"]
    assert len(j.cache) == 0
    assert "judge endpoint kept failing" in caplog.text and "HTTP 429" in caplog.text


def test_a_burst_of_refusals_that_retries_ride_out_does_not_trip_the_breaker(tmp_path):
    # every prompt refused twice (Retry-After 0.05 s) at concurrency 32: 64 refusals in a row, but no
    # item runs out of retries, so the endpoint is not down
    with JudgeServer(faults=("429",), fail_first=2, retry_after="0.05") as server:
        j = judge(server.url, tmp_path, concurrency=32, retries=4, breaker=20)
        verdicts = j.run(items(64), progress=False)
    assert not j.stats()["breaker_tripped"] and all(v.data is not None for v in verdicts)


def test_the_breaker_counts_consecutive_failures_only_and_can_be_turned_off(tmp_path):
    with JudgeServer(faults=("503",), fault_rate=1.0, retry_after="0.001") as server:
        j = judge(server.url, tmp_path / "a", retries=1, breaker=5)
        j.run(items(40), progress=False)
        # 5 failures, then the first item out of retries, then what was in flight: 8 first tries, 8 second
        assert j.stats()["breaker_tripped"] and server.requests <= 2 * 8
        server.requests = 0
        off = judge(server.url, tmp_path / "b", retries=1, breaker=0)
        off.run(items(40), progress=False)
        assert not off.stats()["breaker_tripped"] and server.requests == 80
    # ~100 failures at 30%, but a success in between resets the count: 10 in a row never come
    with JudgeServer(faults=("500",), fault_rate=0.3, seed=2) as server:
        j = judge(server.url, tmp_path / "c", retries=4, breaker=10)
        verdicts = j.run(items(300), progress=False)
        assert not j.stats()["breaker_tripped"] and sum(v.data is not None for v in verdicts) >= 295


# -- 9: a body of any size ---------------------------------------------------------------------------
@pytest.mark.parametrize("fault", ["big", "big_length", "gzip_bomb"])
def test_a_huge_response_body_is_refused_and_memory_stays_bounded(fault, tmp_path):
    with JudgeServer() as healthy:  # the openai client imported and warm: only reading bodies is measured
        judge(healthy.url, tmp_path / "warm").run(items(1), progress=False)
    with JudgeServer(faults=(fault,), fault_rate=1.0, big=48 << 20) as server:
        if fault == "gzip_bomb":
            server.bomb()  # made before measuring: only the client's memory counts
        j = judge(server.url, tmp_path, retries=0, concurrency=2, timeout=10)
        tracemalloc.start()
        try:
            verdicts = j.run(items(2), progress=False)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert all(v.data is None and "response over 1048576 bytes" in v.reason for v in verdicts), verdicts[0].reason
    assert peak < 8 << 20, f"peak {peak / 2**20:.0f} MiB while reading two 48 MiB bodies"


# -- 7 and 8 as the user sees them: what the command prints, and the rerun it advises -------------------
def test_the_run_says_the_judge_stopped_and_how_to_retry_and_the_advised_rerun_scores(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "o"
    with JudgeServer(faults=("503",), fault_rate=1.0, retry_after="0.001") as server:
        spec = f"base_url={server.url}/v1,timeout=2,backoff=0.001,retries=1,breaker=3"
        code = main(["run", "--model", "oracle", "--tasks", "activitynet_qa", "--output-dir", str(out),
                     "--no-progress", "--judge", spec])
        err = capsys.readouterr().err
        assert code == 1, err
        n = json.loads((out / "results.json").read_text())["tasks"]["activitynet_qa"]["n_samples"]
        assert "WARNING activitynet_qa: the judge stopped asking: endpoint kept failing" in err and "HTTP 503" in err
        assert (f"FAILED activitynet_qa: {n}/{n} samples unscored (--max-unscored-rate 0.0); {n} judgements "
                "failed on the judge endpoint and were not cached: rerun `harness score OUTDIR` (with the same "
                "--judge) when it answers again") in err
        server.fault_rate = 0.0  # the endpoint answers again: the advised command scores everything
        assert main(["score", str(out), "--no-progress", "--judge", spec]) == 0
    err = capsys.readouterr().err
    assert "WARNING" not in err and "FAILED" not in err
    task = json.loads((out / "results.json").read_text())["tasks"]["activitynet_qa"]
    assert task["n_unscored"] == 0 and task["judge"]["stats"]["unscored_transient"] == 0
