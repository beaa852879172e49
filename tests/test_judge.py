"""The shared judge through the real openai client against a local fault-injecting server
(tests/judge_server.py, 127.0.0.1 only). Timeouts and backoff are tiny so the matrix stays fast."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import time
from email.utils import formatdate
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.chat import retry_after
from harness.cli import main
from harness.errors import ConfigError, JudgeError
from harness.judge import MAX_FIELD_CHARS, TEMPLATE_DIR, Judge, JudgeConfig, JudgeItem, load_template, parse_verdict
from tests.judge_server import FAULTS, JudgeServer, only_openai_key
from tests.judge_server import qa_items as items

KEY = "sk-test-DO-NOT-LEAK-0123456789abcdefXYZ"
QA = "activitynet_qa.txt"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """The judge reads only the standard variables: start every test without any of them."""
    only_openai_key(monkeypatch, KEY)


def expected(item: JudgeItem) -> dict:
    same = item.fields["answer"] == item.fields["prediction"]
    return {"pred": "yes" if same else "no", "score": 5 if same else 0}


def judge(server: JudgeServer, cache: Path, **kw) -> Judge:
    settings = {"concurrency": 64, "retries": 4, "timeout": 0.5, "backoff": 0.01, **kw}
    return Judge(JudgeConfig(provider="openai", model="judge-x", base_url=server.url + "/v1", **settings), cache)


def test_a_thousand_items_at_30_percent_faults_end_judged_or_unscored_in_bounded_time_and_a_rerun_asks_only_what_failed(
        tmp_path):
    its = items(1000)
    # A 2 s timeout (hangs last 4 s): at concurrency 64 on a loaded 2-core machine a healthy answer
    # can take longer than 0.5 s, and those timeouts would count as faults the server never injected.
    with JudgeServer(fault_rate=0.3, seed=1, hang=4.0) as server:
        t0 = time.monotonic()
        first = judge(server, tmp_path, timeout=2.0)
        verdicts = first.run(its, progress=False)
        elapsed = time.monotonic() - t0
        assert len(verdicts) == 1000 and elapsed < 30
        for it, v in zip(its, verdicts):
            assert (v.data is None) != (v.reason is None)  # judged, or unscored with its reason
            if v.data is not None:  # no faulty answer was ever accepted: each verdict is the real grade
                assert v.data == expected(it) and v.model == "judge-x-served"
        unscored = [v for v in verdicts if v.data is None]
        assert len(unscored) < 20 and all("after 5 attempts" in v.reason for v in unscored)
        s = first.stats()
        assert s["judged"] + s["unscored"] == 1000 and s["unscored"] == len(unscored)
        assert s["requests"] == server.requests and s["retries"] > 200  # ~30% of first attempts failed
        assert not s["breaker_tripped"]  # failures come between answers: the endpoint is not down
        # a rerun takes every final verdict from the cache and asks again only what the endpoint failed
        transient = [v for v in unscored if v.transient]
        assert s["unscored_transient"] == len(transient)
        asked = server.requests
        again = judge(server, tmp_path)
        rerun = again.run(its, progress=False)
        assert [(w.data, w.reason, w.cached) for v, w in zip(verdicts, rerun) if not v.transient] == \
            [(v.data, v.reason, True) for v in verdicts if not v.transient]
        assert again.stats()["cache_hits"] == 1000 - len(transient)
        assert again.stats()["requests"] == server.requests - asked >= len(transient)
        assert {e["auth"] for e in server.log} == {f"Bearer {KEY}"}


REASONS = {"429": "HTTP 429 rate limited", "500": "HTTP 500", "503": "HTTP 503", "hang": "timed out after 0.3 s",
           "truncated": "bad response: ValueError: body is not JSON: b'{",
           "html": "bad response: ValueError: body is not JSON: b'<html>",
           "wrong_keys": "lack ['pred', 'score']", "out_of_range": "score 11 is not a number in 0..5",
           "not_a_dict": "no dict in the answer", "list": "no dict in the answer", "empty": "empty answer",
           "no_choices": "empty answer", "prose": None}


@pytest.mark.parametrize("fault", FAULTS)
def test_each_fault_once_is_retried_and_always_is_unscored_with_its_reason(fault, tmp_path):
    assert set(REASONS) == set(FAULTS)
    its = items(4, tag=fault)
    with JudgeServer(faults=(fault,), fail_first=1, hang=1.0) as server:
        verdicts = judge(server, tmp_path / "once", timeout=0.3).run(its, progress=False)
        assert [v.data for v in verdicts] == [expected(it) for it in its]
        assert server.requests == (4 if fault == "prose" else 8)  # prose around the dict is parsed, not retried
    with JudgeServer(faults=(fault,), fault_rate=1.0, hang=1.0) as server:
        verdicts = judge(server, tmp_path / "always", timeout=0.3, retries=1).run(its, progress=False)
    if REASONS[fault] is None:
        assert all(v.data is not None for v in verdicts)
    else:
        assert all(v.data is None and REASONS[fault] in v.reason and "after 2 attempts" in v.reason
                   for v in verdicts), verdicts[0].reason


@pytest.mark.parametrize("fault", ["429", "503"])
def test_retry_after_is_honoured_through_the_client(fault, tmp_path):
    with JudgeServer(faults=(fault,), fail_first=1, retry_after="0.4") as server:
        v = judge(server, tmp_path / "a", backoff=0.001).run(items(1), progress=False)
        gap = server.log[1]["t"] - server.log[0]["t"]
    assert v[0].data is not None and 0.4 <= gap < 1.0
    with JudgeServer(faults=(fault,), fail_first=1, retry_after=None) as server:  # no header: our tiny backoff
        judge(server, tmp_path / "b", backoff=0.001).run(items(1), progress=False)
        assert server.log[1]["t"] - server.log[0]["t"] < 0.2


def test_retry_after_forms():
    assert retry_after({"retry-after": "2.5"}) == 2.5
    assert retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert 8 <= retry_after({"retry-after": formatdate(time.time() + 10, usegmt=True)}) <= 10
    # as said: the judge waits at most MAX_WAIT, and takes a longer wait as a refusal (no sleep)
    assert retry_after({"retry-after": "3600"}) == 3600.0 and retry_after({"retry-after": "-5"}) == 0.0
    assert retry_after({"retry-after": "inf"}) is None and retry_after({"retry-after-ms": "nan"}) is None
    assert retry_after({"retry-after": "soon"}) is None and retry_after({}) is None and retry_after(None) is None


def test_a_hanging_server_costs_at_most_the_timeout_per_attempt(tmp_path):
    with JudgeServer(faults=("hang",), fault_rate=1.0, hang=5.0) as server:
        t0 = time.monotonic()
        verdicts = judge(server, tmp_path, timeout=0.3, retries=1).run(items(16), progress=False)
        assert time.monotonic() - t0 < 2.0 and all("timed out" in v.reason for v in verdicts)


def test_azure_deployment_path_version_and_key_header(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    with JudgeServer() as server:
        j = Judge(JudgeConfig.resolve({"provider": "azure", "model": "gpt35dep"}, "timeout=2"), tmp_path)
        for problem, fix in (("AZURE_OPENAI_API_KEY", ("AZURE_OPENAI_API_KEY", KEY)),
                             ("endpoint", ("AZURE_OPENAI_ENDPOINT", server.url)),
                             ("API version", ("OPENAI_API_VERSION", "2024-02-01"))):
            with pytest.raises(JudgeError, match=problem):
                j.preflight()
            monkeypatch.setenv(*fix)
        j.preflight()
        verdicts = j.run(items(3), progress=False)
        assert [v.data for v in verdicts] == [expected(it) for it in items(3)]
        assert {e["path"] for e in server.log} == {"/openai/deployments/gpt35dep/chat/completions"}
        assert {e["auth"] for e in server.log} == {KEY}  # the api-key header, not a bearer token
        public = j.config.public()
        assert public["base_url"] == server.url and public["api_version"] == "2024-02-01"
        assert public["key_env"] == "AZURE_OPENAI_API_KEY" and KEY not in json.dumps(public)


def test_a_refused_key_stops_the_run_without_leaking_or_caching(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)  # the client's own debug logs must not carry the key either
    with JudgeServer(key="sk-the-right-one") as server:  # its 401 echoes the key it was given
        j = judge(server, tmp_path, concurrency=4)
        with pytest.raises(JudgeError) as e:
            j.run(items(50), progress=False)
        assert "HTTP 401" in str(e.value) and "[redacted]" in str(e.value)
        assert server.requests < 50  # the rest were cancelled, not sent
    assert len(j.cache) == 0  # a configuration failure is not a verdict: nothing to unlearn later
    text = str(e.value) + repr(e.value) + caplog.text + "".join(f.read_bytes().decode("latin-1")
                                                                for f in tmp_path.rglob("*") if f.is_file())
    assert KEY not in text
    # a wrong path (or deployment) is a 404: configuration as well
    with JudgeServer() as server, pytest.raises(JudgeError, match="HTTP 404"):
        Judge(JudgeConfig(base_url=server.url + "/v2"), tmp_path / "b").run(items(2), progress=False)


def test_preflight_needs_a_key_for_hosted_apis_only(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    for cfg, ok in ((JudgeConfig(), False), (JudgeConfig(base_url="https://api.openai.com/v1"), False),
                    (JudgeConfig(base_url="http://127.0.0.1:8000/v1"), True), (JudgeConfig(base_url="localhost:8000"), False)):
        j = Judge(cfg, tmp_path)
        if ok:
            j.preflight()
        else:
            with pytest.raises(JudgeError):
                j.preflight()
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # the standard variable counts too
    Judge(JudgeConfig(), tmp_path).preflight()


def test_preflight_without_credentials_fails_before_inference(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    code = main(["run", "--model", "oracle", "--tasks", "activitynet_qa", "--output-dir", str(tmp_path / "o"), "--no-progress"])
    assert code == 2 and "OPENAI_API_KEY" in capsys.readouterr().err
    assert not (tmp_path / "o" / "samples").exists()  # nothing was inferred


def test_the_key_appears_in_no_output_file_log_or_cache(tmp_path, monkeypatch, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    with JudgeServer(fault_rate=0.3, seed=3, hang=1.0) as server:
        code = main(["run", "--model", "oracle", "--tasks", "activitynet_qa,msvd_qa,videochatgpt", "--output-dir",
                     str(tmp_path / "o"), "--no-progress", "--max-unscored-rate", "1",
                     "--judge", f"base_url={server.url}/v1,timeout=0.5,backoff=0.01,concurrency=32"])
    assert code == 0
    printed = capsys.readouterr()
    assert KEY not in printed.out + printed.err + caplog.text
    files = [f for f in list((tmp_path / "o").rglob("*")) + list((tmp_path / "cache").rglob("*")) if f.is_file()]
    assert any(f.name == "judge.sqlite" for f in files)
    for f in files:
        assert KEY.encode() not in f.read_bytes(), f
    res = json.loads((tmp_path / "o" / "results.json").read_text())
    j = res["tasks"]["activitynet_qa"]["judge"]
    assert j["base_url"] == f"{server.url}/v1" and j["key_env"] == "OPENAI_API_KEY" and j["key_set"] is True
    assert j["stats"]["models_returned"] == ["gpt-3.5-turbo-0125-served"] and j["stats"]["requests"] > 0
    assert set(j["stats"]["templates"]) == {QA}


def test_cache_key_covers_template_text_model_settings_and_fields(tmp_path):
    tdir = tmp_path / "templates"
    shutil.copytree(TEMPLATE_DIR, tdir)
    cfg = JudgeConfig(base_url="http://127.0.0.1:9/v1")
    a = JudgeItem(QA, {"question": "q", "answer": "a", "prediction": "a"})
    key = Judge(cfg, tmp_path / "c", tdir).cache_key(a)
    assert Judge(cfg, tmp_path / "c", tdir).cache_key(JudgeItem(QA, dict(a.fields))) == key
    (tdir / QA).write_text((tdir / QA).read_text().replace("valid matches", "acceptable matches"))
    edited = Judge(cfg, tmp_path / "c", tdir)
    others = [edited.cache_key(a),
              Judge(cfg, tmp_path / "c", tdir).cache_key(JudgeItem("vcgpt_1_correctness.txt", a.fields)),
              Judge(JudgeConfig(model="judge-y"), tmp_path / "c").cache_key(a),
              Judge(JudgeConfig(temperature=0.7), tmp_path / "c").cache_key(a),
              Judge(JudgeConfig(top_p=0.95), tmp_path / "c").cache_key(a),
              Judge(cfg, tmp_path / "c").cache_key(JudgeItem(QA, {**a.fields, "prediction": "b"}))]
    assert len({key, *others}) == 7
    assert edited.template(QA).hash != load_template(TEMPLATE_DIR / QA).hash


def test_same_answers_from_another_model_or_twice_in_a_run_cost_no_request(tmp_path):
    with JudgeServer(served_model="gpt-4o-mini-2024-07-18") as server:
        first = judge(server, tmp_path)
        twice = items(10) + items(10)  # every item twice in one run
        verdicts = first.run(twice, progress=False)
        assert server.requests == 10 and first.stats()["deduplicated"] == 10
        assert [v.cached for v in verdicts] == [False] * 10 + [True] * 10
        second_model = judge(server, tmp_path).run(items(10), progress=False)  # e.g. model B, same answers
        assert server.requests == 10 and all(v.cached and v.model == "gpt-4o-mini-2024-07-18" for v in second_model)
    s = first.stats()
    assert s["prompt_tokens"] == 500 and s["completion_tokens"] == 100
    assert s["estimated_cost_usd"] == pytest.approx((500 * 0.15 + 100 * 0.6) / 1e6)
    # asked for judge-x, answered as another snapshot: recorded (cached verdicts too) and flagged
    assert s["models_returned"] == ["gpt-4o-mini-2024-07-18"] and s["substituted"] == ["gpt-4o-mini-2024-07-18"]
    assert judge(server, tmp_path).stats()["substituted"] == []  # nothing judged yet


def test_judge_deviations_name_what_differs_from_the_published_setting():
    assert JudgeConfig().deviations() == [
        "judge sampling temperature=0 (official: temperature=0.7, top_p=0.95)",
        "judge model gpt-3.5-turbo-0125 (the published numbers: gpt-3.5-turbo-0613, retired)"]
    replay = JudgeConfig.resolve({"model": "gpt-3.5-turbo-0613"}, "temperature=0.7,top_p=0.95")
    assert replay.deviations() == []
    with pytest.raises(ConfigError, match="top_p"):
        JudgeConfig(top_p=1.5)


def test_retry_unscored_asks_again_what_a_previous_run_left_unscored(tmp_path):
    # a final failure (the judge answered nothing parseable) is cached; a failure of the endpoint never is
    with JudgeServer(faults=("wrong_keys",), fault_rate=1.0) as server:
        assert all(v.data is None for v in judge(server, tmp_path, retries=0).run(items(5), progress=False))
        server.fault_rate = 0.0
        assert all(v.data is None for v in judge(server, tmp_path).run(items(5), progress=False))  # cached as unscored
        assert server.requests == 5
        assert all(v.data is not None for v in judge(server, tmp_path, retry_unscored=True).run(items(5), progress=False))
        assert server.requests == 10


def test_run_works_from_inside_an_event_loop(tmp_path):
    with JudgeServer() as server:
        async def notebook_cell():
            return judge(server, tmp_path).run(items(3), progress=False)
        assert [v.data for v in asyncio.run(notebook_cell())] == [expected(it) for it in items(3)]


def test_config_resolution_types_aliases_and_refusals(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "https://user:secret@proxy.example/v1?token=abc")
    c = JudgeConfig.resolve({"provider": "openai", "model": "gpt-3.5-turbo-0125", "temperature": 0},
                            "model=4,concurrency=16,timeout=5,endpoint=http://127.0.0.1:1/v1,retry_unscored=true")
    assert (c.model, c.concurrency, c.timeout, c.base_url, c.retry_unscored) == ("4", 16, 5.0, "http://127.0.0.1:1/v1", True)
    assert JudgeConfig.resolve({}, "provider=azure,deployment=dep").model == "dep"
    assert JudgeConfig.resolve({}, None).public()["base_url"] == "https://proxy.example/v1"  # no user:pass, no query
    for spec, match in (("colour=red", "unknown --judge keys"), ("concurrency=0", "concurrency"),
                        ("concurrency=many", "not of type int"), ("provider=anthropic", "provider"), ("timeout=-1", "timeout"),
                        ("retries=2.5", "not of type int"), ("model=", "model must be set"), ("oops", "key=value")):
        with pytest.raises(ConfigError, match=match):
            JudgeConfig.resolve({}, spec)
    with pytest.raises(ConfigError) as e:
        JudgeConfig.resolve({}, f"api_key={KEY}")
    assert KEY not in str(e.value)


def test_prompt_fields_are_filled_in_one_pass_and_bounded():
    t = load_template(TEMPLATE_DIR / QA)
    user = t.messages({"question": "q {prediction}", "answer": "REF-7731", "prediction": "x {answer} " * 1000})[1]["content"]
    assert user.count("REF-7731") == 1  # the reference never leaks into the prediction slot
    assert "q {prediction}" in user and "[... truncated]" in user and len(user) < MAX_FIELD_CHARS + 2000
    with pytest.raises(ConfigError, match="needs fields"):
        t.messages({"question": "q"})


@pytest.mark.parametrize("text, schema, data", [
    ("{'pred': 'yes', 'score': 4}", "pred_score", {"pred": "yes", "score": 4}),
    ("Verdict: {'Pred': 'No.', 'score': '2'} done", "pred_score", {"pred": "no", "score": 2}),
    ('{"score": 3.0}', "score", {"score": 3}),
    ("{'pred': 'yes', 'score': 4.8}", "pred_score", {"pred": "yes", "score": 4}),  # truncated, as the seed's int()
    ("e.g. {'score': 9} but really {'score': 4}", "score", {"score": 4}),
    ("{'pred': 'maybe', 'score': 3}", "pred_score", None),
    ("{'pred': 'yes'}", "pred_score", None),
    ("{'score': 7}", "score", None),
    ('{"score": NaN}', "score", None),
    ("{'score': True}", "score", None),
    ("{'rating': 5}", "score", None),
    ("[{'score': 5]", "score", None),
    ("__import__('os').system('echo hi')", "score", None),
    ("{'score': __import__('os').getpid()}", "score", None),
    ("{'score': 10**100}", "score", None),
    ("", "score", None),
    (None, "score", None),
])
def test_verdicts_are_parsed_as_data_and_validated(text, schema, data):
    parsed, problem = parse_verdict(text, schema)
    assert parsed == data and (problem is None) == (data is not None)


@given(st.one_of(st.text(), st.from_regex(r"\{'(pred|score)': .{0,12}\}"), st.binary().map(lambda b: b.decode("latin-1"))))
def test_verdict_parser_never_raises(text):
    for schema in ("pred_score", "score"):
        data, problem = parse_verdict(text, schema)
        assert (data is None) != (problem is None)
        if data is not None:
            assert 0 <= data["score"] <= 5
