"""A local OpenAI-compatible chat server on 127.0.0.1 for judge tests, with fault injection.

Serves /v1/chat/completions and the Azure path /openai/deployments/<dep>/chat/completions
(which must carry ?api-version= and an api-key header). By default it grades like a strict
judge: 'yes'/5 when the predicted answer equals the reference, else 'no'/0 (score-only prompts:
5 or 1); `script(system, user)` may return the answer text instead. Faults come per request
from a seeded RNG (`fault_rate`), or for the first `fail_first` requests of each distinct prompt.
EXTRA_FAULTS are never drawn unless named in `faults`: a dropped connection, a 400 refusal of the
request, an answer cut by the content filter (finish_reason content_filter), and bodies past any sane size (`big` bytes of JSON whitespace before a valid completion:
chunked, with a Content-Length, or gzip-compressed whatever the client accepts). `echo_key` puts
the credential the client presented into the response's `model` field, as some proxies do.

It serves the `openai` model adapter's tests too: a message whose content is a list of parts (images,
a video, text) is read by its text parts (`script` gets their text as `user`), and `keep_bodies`
keeps every request body as sent, for the tests to check what the adapter sent.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

FAULTS = ("429", "500", "503", "hang", "truncated", "html", "prose", "wrong_keys", "out_of_range", "not_a_dict",
          "list", "empty", "no_choices")
EXTRA_FAULTS = ("drop", "400", "filtered", "big", "big_length", "gzip_bomb")
PAD = b" " * (1 << 20)  # JSON whitespace, allocated once: a big body is written from it without new memory
AZURE_PATH = re.compile(r"/openai/deployments/([^/]+)/chat/completions")


# The openai package's own variables: every judge/endpoint test starts without any of them but the key.
OPENAI_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "OPENAI_API_VERSION")


def only_openai_key(monkeypatch: Any, key: str) -> None:
    """Clear every OPENAI_ENV variable, then set OPENAI_API_KEY to `key`."""
    for var in OPENAI_ENV:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", key)


def qa_items(n: int, tag: str = "") -> list[Any]:
    """n ActivityNet-QA judge items, distinct by index (and `tag`), with a few repeated answers."""
    from harness.judge import JudgeItem

    return [JudgeItem("activitynet_qa.txt", {"question": f"{tag}q{i}", "answer": f"a{i % 7}", "prediction": f"a{i % 5}"})
            for i in range(n)]


def text_of(content: Any) -> str:
    """A message's text: the content itself, or its text parts joined (a multimodal message)."""
    if isinstance(content, str):
        return content
    return "\n".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")


def grade(system: str, user: str) -> str:
    # the official judge messages: "Correct Answer: ..." and "Predicted Answer[ to Question 1]: ..."
    ref = re.search(r"Correct Answer: (.*)", user)
    pred = re.search(r"Predicted Answer(?: to Question 1)?: (.*)", user)
    same = bool(ref and pred and ref.group(1).strip().lower() == pred.group(1).strip().lower())
    if "'pred'" in user:
        return str({"pred": "yes" if same else "no", "score": 5 if same else 0})
    return str({"score": 5 if same else 1})


class JudgeServer:
    def __init__(self, fault_rate: float = 0.0, faults: tuple[str, ...] = FAULTS, seed: int = 0, latency: float = 0.0,
                 hang: float = 2.0, retry_after: str | None = "0.01", fail_first: int = 0, key: str | None = None,
                 script: Callable[[str, str], str | None] | None = None, served_model: str | None = None,
                 echo_key: bool = False, big: int = 32 << 20, keep_bodies: bool = False):
        self.fault_rate, self.faults, self.latency, self.hang = fault_rate, faults, latency, hang
        self.retry_after, self.fail_first, self.key, self.script = retry_after, fail_first, key, script
        self.served_model, self.echo_key, self.big = served_model, echo_key, big
        self.keep_bodies = keep_bodies
        self.bodies: list[dict[str, Any]] = []  # every request body, when keep_bodies
        self._bomb: bytes | None = None
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.requests = 0
        self.seen: Counter[str] = Counter()  # requests per distinct prompt
        self.log: list[dict[str, Any]] = []  # {t, path, prompt, fault, auth}
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real endpoints do: no new connection per request
            disable_nagle_algorithm = True  # headers and body go out in two writes: Nagle would hold the body ~40 ms

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, code: int, body: bytes, headers: dict[str, str] | None = None,
                      content_type: str = "application/json") -> None:
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", content_type)
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client gave up (timeout) and closed the socket
                    pass

            def _error(self, code: int, message: str, headers: dict[str, str] | None = None) -> None:
                self._send(code, json.dumps({"error": {"message": message, "type": "test", "code": str(code)}}).encode(),
                           headers)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                url = urlsplit(self.path)
                auth = self.headers.get("Authorization") or self.headers.get("api-key") or ""
                messages = body["messages"]
                system = next((m["content"] for m in messages if m.get("role") == "system"), "")
                user = text_of(messages[-1]["content"])
                prompt = hashlib.sha256(json.dumps(messages[-1]["content"], sort_keys=True).encode()).hexdigest()[:12]
                with server.lock:
                    if server.keep_bodies:
                        server.bodies.append(body)
                    server.requests += 1
                    server.seen[prompt] += 1
                    nth = server.seen[prompt]
                    fault = None
                    if nth <= server.fail_first:
                        fault = server.faults[(nth - 1) % len(server.faults)]
                    elif server.rng.random() < server.fault_rate:
                        fault = server.rng.choice(server.faults)
                    server.log.append({"t": time.monotonic(), "path": url.path, "prompt": prompt, "fault": fault,
                                       "auth": auth})
                azure = AZURE_PATH.fullmatch(url.path)
                if azure and not parse_qs(url.query).get("api-version"):
                    return self._error(404, "Resource not found (no api-version)")
                if not azure and url.path != "/v1/chat/completions":
                    return self._error(404, f"no route {url.path}")
                if fault == "drop":  # the connection closes without an answer
                    self.close_connection = True
                    return None
                if server.key is not None and auth not in (server.key, f"Bearer {server.key}"):
                    # like some proxies, echo what was presented: the client must redact it
                    return self._error(401, f"Incorrect API key provided: {auth}")
                if server.latency:
                    time.sleep(server.latency)
                content = (server.script(system, user) if server.script else None) or grade(system, user)
                retry = {"Retry-After": server.retry_after} if server.retry_after is not None else {}
                if fault == "429":
                    return self._error(429, "Rate limit reached, slow down", retry)
                if fault == "400":
                    return self._error(400, "The response was filtered due to the prompt triggering a content policy")
                if fault in ("500", "503"):
                    return self._error(int(fault), "boom", retry if fault == "503" else None)
                if fault == "hang":
                    time.sleep(server.hang)
                if fault == "html":
                    return self._send(200, b"<html><body>Bad gateway</body></html>", content_type="text/html")
                content = {"prose": f"Sure! Here is my verdict: {content} Hope this helps.",
                           "wrong_keys": "{'verdict': 'yes', 'rating': 5}",
                           "out_of_range": "{'pred': 'yes', 'score': 11}" if "'pred'" in user else "{'score': -3}",
                           "not_a_dict": "I think the answer is correct.", "list": "['yes', 4]",
                           "empty": "", "filtered": content[: len(content) // 2]}.get(fault or "", content)
                model = server.served_model or body["model"] + "-served"
                if server.echo_key:
                    model += f" ({auth})"
                choices = [] if fault == "no_choices" else [
                    {"index": 0, "finish_reason": "content_filter" if fault == "filtered" else "stop",
                     "message": {"role": "assistant", "content": content}}]
                payload = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": model,
                                      "choices": choices,
                                      "usage": {"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60}}).encode()
                if fault == "truncated":
                    payload = payload[: len(payload) // 2]
                if fault in ("big", "big_length"):
                    return self._send_big(payload, chunked=fault == "big")
                if fault == "gzip_bomb":
                    return self._send(200, server.bomb(), {"Content-Encoding": "gzip"})
                self._send(200, payload)

            def _send_big(self, payload: bytes, chunked: bool) -> None:
                """`big` bytes of whitespace, then the payload: valid JSON, written from one buffer."""
                pads, rest = divmod(server.big, len(PAD))
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    if chunked:
                        self.send_header("Transfer-Encoding", "chunked")
                    else:
                        self.send_header("Content-Length", str(server.big + len(payload)))
                    self.end_headers()
                    for piece in [PAD] * pads + [PAD[:rest]] * bool(rest) + [payload]:
                        if chunked:
                            self.wfile.write(b"%x\r\n" % len(piece))
                        self.wfile.write(piece)
                        if chunked:
                            self.wfile.write(b"\r\n")
                    if chunked:
                        self.wfile.write(b"0\r\n\r\n")
                except OSError:  # the client stopped reading and closed the connection
                    self.close_connection = True

        class Server(ThreadingHTTPServer):
            request_queue_size = 512  # the default listen backlog (5) refuses bursts of 64 connections
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that hung up mid-body
                    super().handle_error(request, client_address)

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        # a short poll: shutdown() waits for the loop to notice, 0.5 s per server by default
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def bomb(self) -> bytes:
        """`big` bytes of whitespace gzip-compressed (~1000:1), made once per server."""
        if self._bomb is None:
            out = io.BytesIO()
            with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=1) as f:
                for _ in range(self.big // len(PAD)):
                    f.write(PAD)
            self._bomb = out.getvalue()
        return self._bomb

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
