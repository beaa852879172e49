"""The shared judge through the real openai client against a local fault-injecting server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from harness.cli import main
from harness.errors import JudgeError
from harness.judge import Judge, JudgeConfig, JudgeItem, _retry_after
from harness.judge_parse import parse_verdict
from tests.judge_server import JudgeServer

KEY = "sk-test-DO-NOT-LEAK-0123456789abcdefXYZ"


def items(n: int) -> list[JudgeItem]:
    return [JudgeItem("qa_yes_no_v1.txt", {"question": f"q{i}", "answer": f"a{i % 7}", "prediction": f"a{i % 5}"})
            for i in range(n)]


def judge(server: JudgeServer, tmp_path: Path, **kw) -> Judge:
    cfg = JudgeConfig(provider="openai", model="judge-x", base_url=server.url + "/v1", concurrency=64, retries=4,
                      timeout=0.5, backoff=0.01, **kw)
    return Judge(cfg, tmp_path / "cache")


def test_a_thousand_items_at_30_percent_faults_all_end_judged_or_unscored_and_a_rerun_asks_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with JudgeServer(fault_rate=0.3, seed=1, hang=1.0) as server:
        its = items(1000)
        verdicts = judge(server, tmp_path).run(its, progress=False)
        assert len(verdicts) == 1000
        for it, v in zip(its, verdicts):
            assert (v.data is None) != (v.reason is None)  # judged, or unscored with its reason
            if v.data is not None:  # every accepted verdict is the grade the server meant
                same = it.fields["answer"] == it.fields["prediction"]
                assert v.data == {"pred": "yes" if same else "no", "score": 5 if same else 0}
                assert v.model == "judge-x-served"
        unscored = [v for v in verdicts if v.data is None]
        assert len(unscored) < 20 and all("attempts" in v.reason for v in unscored)
        asked = server.requests
        again = judge(server, tmp_path)
        assert [v.data for v in again.run(its, progress=False)] == [v.data for v in verdicts]
        assert server.requests == asked and again.stats()["cache_hits"] == 1000
        assert all(h == f"Bearer {KEY}" for h in server.auth_headers)


def test_azure_deployment_path_and_credentials(tmp_path, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    monkeypatch.delenv("AZURE_OPENAI_ENDPOINT", raising=False)
    monkeypatch.delenv("OPENAI_API_VERSION", raising=False)
    with JudgeServer() as server:
        cfg = JudgeConfig(provider="azure", model="gpt35dep", base_url=server.url, concurrency=4, timeout=2)
        j = Judge(cfg, tmp_path)
        with pytest.raises(JudgeError, match="API version"):
            j.preflight()
        monkeypatch.setenv("OPENAI_API_VERSION", "2024-02-01")
        j.preflight()
        v = j.run(items(3), progress=False)
        assert all(x.data is not None for x in v)
        assert all(p.startswith("/openai/deployments/gpt35dep/chat/completions") for p in server.paths)


def test_preflight_without_credentials_fails_before_inference(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    code = main(["run", "--model", "oracle", "--tasks", "activitynet_qa", "--output-dir", str(tmp_path / "o"), "--no-progress"])
    assert code == 2 and "OPENAI_API_KEY" in capsys.readouterr().err
    assert not (tmp_path / "o" / "samples").exists()  # nothing was inferred


def test_the_key_appears_in_no_output_file_log_or_cache(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    with JudgeServer(fault_rate=0.3, seed=3, hang=1.0) as server:
        code = main(["run", "--model", "oracle", "--tasks", "activitynet_qa,msvd_qa,videochatgpt", "--output-dir",
                     str(tmp_path / "o"), "--no-progress", "--max-unscored-rate", "1",
                     "--judge", f"base_url={server.url}/v1,timeout=0.5,backoff=0.01,concurrency=32"])
    assert code == 0
    printed = capsys.readouterr()
    assert KEY not in printed.out + printed.err
    for f in list((tmp_path / "o").rglob("*")) + list((tmp_path / "cache").rglob("*")):
        if f.is_file():
            assert KEY.encode() not in f.read_bytes(), f
    res = json.loads((tmp_path / "o" / "results.json").read_text())
    assert res["tasks"]["activitynet_qa"]["judge"]["base_url"].startswith("http://127.0.0.1")


def test_template_and_model_are_part_of_the_cache_key(tmp_path):
    with JudgeServer() as server:
        j = judge(server, tmp_path)
        a = JudgeItem("qa_yes_no_v1.txt", {"question": "q", "answer": "a", "prediction": "a"})
        b = JudgeItem("vcg_correctness_v1.txt", {"question": "q", "answer": "a", "prediction": "a"})
        other = Judge(JudgeConfig(model="judge-y", base_url=server.url), tmp_path / "cache")
        assert len({j.cache_key(a), j.cache_key(b), other.cache_key(a)}) == 3


def test_retry_after_is_honoured():
    class R:
        headers = {"retry-after": "2.5"}

    class E:
        response = R()

    assert _retry_after(E(), 9.0) == 2.5
    R.headers = {}
    assert _retry_after(E(), 9.0) == 9.0


@pytest.mark.parametrize("text, schema, ok", [
    ("{'pred': 'yes', 'score': 4}", "pred_score", True),
    ("Verdict: {'pred': 'No', 'score': '2'} done", "pred_score", True),
    ('{"score": 3}', "score", True),
    ("{'pred': 'maybe', 'score': 3}", "pred_score", False),
    ("{'score': 7}", "score", False),
    ("{'rating': 5}", "score", False),
    ("__import__('os').system('echo hi')", "score", False),
    ("{'score': __import__('os').getpid()}", "score", False),
])
def test_verdict_parsing_is_data_only(text, schema, ok):
    data, problem = parse_verdict(text, schema)
    assert (data is not None) == ok and (problem is None) == ok


@given(st.text())
def test_verdict_parser_never_raises(text):
    for schema in ("pred_score", "score"):
        parse_verdict(text, schema)
