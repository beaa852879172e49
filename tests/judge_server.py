"""A local OpenAI-compatible chat server on 127.0.0.1 for judge tests, with fault injection.

Serves /v1/chat/completions and the Azure path /openai/deployments/<dep>/chat/completions.
It grades like a strict judge: 'yes'/5 when the predicted answer equals the reference, else
'no'/0 ('score' only for score-schema prompts). Faults are drawn per request from a seeded RNG.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULTS = ("429", "500", "hang", "truncated", "prose", "wrong_keys", "out_of_range", "not_a_dict")


def grade(user: str) -> str:
    ref = re.search(r"Reference answer: (.*)", user)
    pred = re.search(r"(?:Predicted answer|Answer to the first question): (.*)", user)
    same = bool(ref and pred and ref.group(1).strip().lower() == pred.group(1).strip().lower())
    if "'pred'" in user:
        return str({"pred": "yes" if same else "no", "score": 5 if same else 0})
    return str({"score": 5 if same else 1})


class JudgeServer:
    def __init__(self, fault_rate: float = 0.0, faults: tuple[str, ...] = FAULTS, seed: int = 0, latency: float = 0.0,
                 hang: float = 2.0):
        self.fault_rate, self.faults, self.latency, self.hang = fault_rate, faults, latency, hang
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.requests = 0
        self.auth_headers: list[str] = []
        self.paths: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, code: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                with server.lock:
                    server.requests += 1
                    server.auth_headers.append(self.headers.get("Authorization") or self.headers.get("api-key") or "")
                    server.paths.append(self.path)
                    fault = server.rng.choice(server.faults) if server.rng.random() < server.fault_rate else None
                if server.latency:
                    time.sleep(server.latency)
                user = body["messages"][-1]["content"]
                content = grade(user)
                if fault == "429":
                    return self._send(429, b'{"error": {"message": "slow down", "type": "rate_limit"}}', {"Retry-After": "0.01"})
                if fault == "500":
                    return self._send(500, b'{"error": {"message": "boom"}}')
                if fault == "hang":
                    time.sleep(server.hang)
                if fault == "prose":
                    content = f"Sure! Here is my verdict: {content} Hope this helps."
                elif fault == "wrong_keys":
                    content = "{'verdict': 'yes', 'rating': 5}"
                elif fault == "out_of_range":
                    content = "{'pred': 'yes', 'score': 11}" if "'pred'" in user else "{'score': -3}"
                elif fault == "not_a_dict":
                    content = "I think the answer is correct."
                payload = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": body["model"] + "-served",
                                      "choices": [{"index": 0, "finish_reason": "stop",
                                                   "message": {"role": "assistant", "content": content}}],
                                      "usage": {"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60}}).encode()
                if fault == "truncated":
                    payload = payload[: len(payload) // 2]
                self._send(200, payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "JudgeServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
