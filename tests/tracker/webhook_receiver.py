"""A real HTTP server on 127.0.0.1 (port 0) that receives webhooks: it records every request
and answers from a script (status, headers), one answer per request, the last one repeated."""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic()


@dataclass
class Receiver:
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=lambda: [(204, {})])
    received: list[Received] = field(default_factory=list)
    # Set `hold` and the receiver keeps each request open until `release` is set.
    hold: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    holding: threading.Event = field(default_factory=threading.Event)

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    receiver.received.append(Received(headers, body, time.monotonic()))
                    number = len(receiver.received)
                    status, extra = receiver.answers[min(number, len(receiver.answers)) - 1]
                if receiver.hold.is_set():
                    receiver.holding.set()
                    receiver.release.wait(30)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                answer = b'{"ok": true}' if status < 300 else b"no thanks"
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:
                pass

        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}/hooks"

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
