"""A tiny OpenAI-compatible HTTP server on loopback that plays canned responses and records requests.

It speaks real HTTP, so the adapter's whole stack (langchain, the openai client, httpx) runs as in production;
only the answers are scripted. Used for the error paths a real model cannot be made to produce on demand.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Canned:
    status: int = 200
    body: Any = None
    stream: list[str] | None = None
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    echo_authorization: bool = False
    """Replace `{authorization}` in the body with the request's Authorization header, as careless servers do."""


def completion(
    content: str, *, finish_reason: str = "stop", prompt_tokens: int = 12, completion_tokens: int = 7
) -> Canned:
    return Canned(
        body={
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 0,
            "model": "fake-model",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish_reason}
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )


def error(status: int, message: str, **headers: str) -> Canned:
    return Canned(status=status, body={"error": {"message": message, "type": "test", "code": status}}, headers=headers)


def error_echoing_key(status: int, message: str = "Incorrect API key provided: {authorization}") -> Canned:
    """An error whose body repeats the credentials the client sent (some proxies and servers do)."""
    canned = error(status, message)
    canned.echo_authorization = True
    return canned


def streamed(pieces: list[str]) -> Canned:
    events = []
    for piece in pieces:
        chunk = {
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "fake-model",
            "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
        }
        events.append(json.dumps(chunk))
    final = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "fake-model",
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": len(pieces), "total_tokens": 5 + len(pieces)},
    }
    events.append(json.dumps(final))
    return Canned(stream=events)


class FakeOpenAIServer:
    """Start with `with FakeOpenAIServer() as server:`; queue answers with `server.push(...)`."""

    def __init__(self) -> None:
        self.queue: deque[Canned] = deque()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("content-length", 0))
                outer.requests.append(json.loads(self.rfile.read(length) or b"{}"))
                outer.headers.append({k.lower(): v for k, v in self.headers.items()})
                canned = outer.queue.popleft() if outer.queue else error(500, "no canned answer left")
                if canned.delay_s:
                    time.sleep(canned.delay_s)
                try:
                    if canned.stream is not None:
                        self.send_response(200)
                        self.send_header("content-type", "text/event-stream")
                        self.end_headers()
                        for event in canned.stream:
                            self.wfile.write(f"data: {event}\n\n".encode())
                        self.wfile.write(b"data: [DONE]\n\n")
                        return
                    payload = canned.body if isinstance(canned.body, bytes) else json.dumps(canned.body).encode()
                    if canned.echo_authorization:
                        sent = json.dumps(outer.headers[-1].get("authorization", ""))[1:-1].encode()
                        payload = payload.replace(b"{authorization}", sent)
                    self.send_response(canned.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    for name, value in canned.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def push(self, *answers: Canned) -> None:
        self.queue.extend(answers)

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
