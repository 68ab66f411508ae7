"""The webhook transport against real local HTTP servers: what it refuses, what it sends, and how
it bounds a misbehaving endpoint. No database: these run in a second or two."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import MappingProxyType

import pytest

from tracker.webhooks.transport import (
    MAX_RETRY_AFTER,
    InvalidURL,
    RefusedAddress,
    Response,
    Timeout,
    TransportError,
    check_url,
    is_allowed_address,
    post,
)

Behaviour = Callable[[BaseHTTPRequestHandler, bytes], None]


class Receiver:
    """A real HTTP server on 127.0.0.1 (port chosen by the OS) that counts every connection it
    accepts and records every request, answering as ``behaviour`` says."""

    def __init__(
        self,
        behaviour: Behaviour,
        *,
        host: str = "127.0.0.1",
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.connections = 0
        self.requests: list[dict] = []
        self.released = threading.Event()  # set at teardown to free handlers that wait
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers.items()), "body": body}
                )
                # The client may stop reading early, as it should with a large answer.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    behaviour(self, body)

            do_GET = do_POST

            def log_message(self, format, *args) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

            def get_request(self):
                conn = super().get_request()
                receiver.connections += 1
                return conn

        self.server = Server((host, 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Callable[[Behaviour], Receiver]]:
    started: list[Receiver] = []

    def start(behaviour: Behaviour, **options) -> Receiver:
        server = Receiver(behaviour, **options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def answer(status: int, body: bytes = b"", **headers: str) -> Behaviour:
    def behave(handler: BaseHTTPRequestHandler, _body: bytes) -> None:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name.replace("_", "-"), value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return behave


def send(url: str, body: bytes = b"{}", headers=None, **options):
    options.setdefault("timeout", 5)
    options.setdefault("max_bytes", 1024)
    options.setdefault("allow_loopback", False)
    return post(url, body, headers or {}, **options)


# --- Refused targets -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.0.0.5/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.100.100.200/latest/meta-data/",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[::ffff:a9fe:a9fe]/hook",  # 169.254.169.254, IPv4-mapped
        "https://[fd00::1]/hook",
        "https://[fe80::1]/hook",
        "https://192.168.1.1:8443/hook",
        "https://172.16.0.1/hook",
        "https://0.0.0.0/hook",
        "https://[::]/hook",
        "https://224.0.0.1/hook",
        "https://[ff02::1]/hook",
        "https://192.0.2.10/hook",
        "https://[2001:db8::1]/hook",
        "https://[64:ff9b::a00:5]/hook",  # NAT64 of 10.0.0.5
        "https://[2002:7f00:1::1]/hook",  # 6to4 of 127.0.0.1
    ],
)
def test_internal_addresses_are_refused_before_any_packet(url):
    started = time.monotonic()
    with pytest.raises(RefusedAddress, match="not a public internet address"):
        send(url, timeout=5)
    # 10.0.0.5 would hang on a connection timeout if a SYN had been sent: refusal is immediate.
    assert time.monotonic() - started < 1  # a connection attempt would wait for the 5 s timeout


def test_loopback_is_refused_without_the_setting_and_never_contacted(receiver):
    server = receiver(answer(204))
    with pytest.raises(RefusedAddress):
        send(f"https://127.0.0.1:{server.port}/hook")
    with pytest.raises(RefusedAddress):
        send(f"https://[::ffff:127.0.0.1]:{server.port}/hook")
    assert server.connections == 0


def test_a_name_that_resolves_to_loopback_is_refused_after_resolution(receiver):
    server = receiver(answer(204))
    with pytest.raises(RefusedAddress, match=r"localhost resolves to .*127\.0\.0\.1"):
        check_url(f"https://localhost:{server.port}/hook", allow_loopback=False)
    with pytest.raises(RefusedAddress, match=r"localhost resolves to .*127\.0\.0\.1"):
        send(f"https://localhost:{server.port}/hook")
    assert server.connections == 0


def test_a_redirect_is_returned_not_followed(receiver):
    inside = receiver(answer(200, b"internal secrets"))
    outside = receiver(answer(302, Location=inside.url("/admin")))
    response = send(outside.url(), allow_loopback=True)
    assert response.status == 302
    assert response.headers["location"] == inside.url("/admin")
    assert len(outside.requests) == 1
    assert inside.connections == 0


def test_a_redirect_to_the_metadata_address_is_not_followed(receiver):
    outside = receiver(answer(307, Location="http://169.254.169.254/latest/meta-data/"))
    response = send(outside.url(), allow_loopback=True)
    assert response.status == 307
    assert response.body == b""


# --- What is sent and returned ---------------------------------------------------------------


def test_loopback_when_allowed_posts_body_and_headers(receiver):
    server = receiver(answer(202, b'{"ok": true}', X_Receipt="r-1"))
    response = send(
        server.url("/hook?team=news"),
        b'{"type": "milestone.date_changed"}',
        {"webhook-id": "msg_1", "Content-Type": "application/json"},
        allow_loopback=True,
    )
    assert response.status == 202
    assert response.body == b'{"ok": true}'
    assert response.headers["x-receipt"] == "r-1"
    assert response.size == len(b'{"ok": true}')
    assert response.truncated is False
    assert 0 < response.elapsed < 5
    (request,) = server.requests
    assert request["path"] == "/hook?team=news"
    assert request["body"] == b'{"type": "milestone.date_changed"}'
    assert request["headers"]["webhook-id"] == "msg_1"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["Host"] == f"127.0.0.1:{server.port}"


def test_localhost_by_name_keeps_its_host_header(receiver):
    server = receiver(answer(200))
    response = send(server.url(host="localhost"), allow_loopback=True)
    assert response.status == 200
    assert response.address == "127.0.0.1"  # the address resolved and vetted, then dialled
    assert server.requests[0]["headers"]["Host"] == f"localhost:{server.port}"


def test_an_error_status_is_a_response_not_an_exception(receiver):
    server = receiver(answer(500, b"boom"))
    response = send(server.url(), allow_loopback=True)
    assert (response.status, response.body) == (500, b"boom")


def test_headers_the_transport_owns_are_refused(receiver):
    server = receiver(answer(200))
    with pytest.raises(ValueError, match="Host header is set by the transport"):
        send(server.url(), headers={"Host": "internal.example"}, allow_loopback=True)
    assert server.connections == 0


def test_a_large_answer_is_truncated_at_max_bytes(receiver):
    server = receiver(answer(200, b"x" * 100_000))
    response = send(server.url(), max_bytes=1000, allow_loopback=True)
    assert response.body == b"x" * 1000
    assert response.truncated is True
    assert response.size == 1001


def test_an_endless_answer_is_cut_off_without_waiting_for_its_end(receiver):
    def endless(handler, _body):
        handler.send_response(200)
        handler.end_headers()  # HTTP/1.0, no length: the body runs until the server closes
        while not receiver_released.is_set():
            handler.wfile.write(b"y" * 4096)

    server = receiver(endless)
    receiver_released = server.released
    response = send(server.url(), max_bytes=10_000, timeout=5, allow_loopback=True)
    assert response.truncated is True
    assert response.body == b"y" * 10_000
    assert response.elapsed < 5


# --- Time ------------------------------------------------------------------------------------


def test_a_server_that_never_answers_times_out_on_time(receiver):
    server = receiver(lambda handler, _body: server.released.wait(30))
    started = time.monotonic()
    with pytest.raises(Timeout):
        send(server.url(), timeout=0.5, allow_loopback=True)
    assert time.monotonic() - started < 0.5 + 2  # the timeout, and slack for a busy machine


def test_a_slow_drip_body_cannot_outlast_the_overall_timeout(receiver):
    def drip(handler, _body):
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        for _ in range(1000):  # one byte every 50 ms: each read succeeds, the whole takes 50 s
            if server.released.wait(0.05):
                return
            handler.wfile.write(b"z")
            handler.wfile.flush()

    server = receiver(drip)
    started = time.monotonic()
    with pytest.raises(Timeout):
        send(server.url(), timeout=0.6, max_bytes=100_000, allow_loopback=True)
    assert time.monotonic() - started < 0.6 + 2  # the timeout, and slack for a busy machine


def test_slow_drip_headers_cannot_outlast_the_overall_timeout(receiver):
    def drip(handler, _body):
        status_line = b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 1000 + b"\r\n\r\n"
        for byte in status_line:
            if server.released.wait(0.05):
                return
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()

    server = receiver(drip)
    started = time.monotonic()
    with pytest.raises(Timeout):
        send(server.url(), timeout=0.6, allow_loopback=True)
    assert time.monotonic() - started < 0.6 + 2  # the timeout, and slack for a busy machine


def test_a_server_that_never_reads_cannot_stall_the_upload():
    # Listening but never accepting: the kernel completes the handshake, nobody reads, and once
    # the socket buffers are full every write would block.
    body = b"b" * (16 * 1024 * 1024)  # far more than the socket buffers hold
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(Timeout):
            send(f"http://127.0.0.1:{port}/hook", body, timeout=0.6, allow_loopback=True)
        assert time.monotonic() - started < 0.6 + 2  # the timeout, and slack for a busy machine


def test_a_closed_port_is_a_transport_error_not_a_timeout():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, not listening: connections are refused
        with pytest.raises(TransportError, match="Could not connect") as caught:
            send(f"http://127.0.0.1:{port}/hook", allow_loopback=True)
    assert not isinstance(caught.value, Timeout | RefusedAddress)


def test_a_server_that_closes_without_answering_is_a_transport_error(receiver):
    server = receiver(lambda handler, _body: handler.connection.shutdown(socket.SHUT_RDWR))
    with pytest.raises(TransportError, match="failed"):
        send(server.url(), allow_loopback=True)


# --- Retry-After -----------------------------------------------------------------------------

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def reply(**headers: str) -> Response:
    return Response(
        status=429,
        headers=MappingProxyType(headers),
        body=b"",
        size=0,
        truncated=False,
        elapsed=0.01,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", timedelta(seconds=120)),
        (" 0 ", timedelta(0)),
        ("Sun, 29 Nov 2026 09:05:00 GMT", timedelta(minutes=5)),
        ("Sunday, 29-Nov-26 09:00:30 GMT", timedelta(seconds=30)),  # RFC 850 form
        ("Sun Nov 29 09:01:00 2026", timedelta(minutes=1)),  # asctime form, UTC by definition
        ("Sun, 29 Nov 2026 08:00:00 GMT", timedelta(0)),  # in the past: retry now
        ("999999999", MAX_RETRY_AFTER),
        ("Thu, 01 Jan 2037 00:00:00 GMT", MAX_RETRY_AFTER),
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
        ("٣", None),  # a digit, but not an ASCII one
    ],
)
def test_retry_after_reads_seconds_and_http_dates(value, expected):
    assert reply(**{"retry-after": value}).retry_after(now=NOW) == expected


def test_retry_after_absent_is_none_and_needs_an_aware_now():
    assert reply().retry_after(now=NOW) is None
    with pytest.raises(ValueError, match="timezone-aware"):
        reply(**{"retry-after": "5"}).retry_after(now=datetime(2026, 11, 29, 9, 0))  # noqa: DTZ001


def test_retry_after_arrives_from_a_real_answer(receiver):
    server = receiver(answer(429, b"slow down", Retry_After="30"))
    response = send(server.url(), allow_loopback=True)
    assert response.status == 429
    assert response.retry_after(now=NOW) == timedelta(seconds=30)


# --- check_url and is_allowed_address --------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "allow_loopback", "message"),
    [
        ("", False, "The URL is empty"),
        ("   ", False, "The URL is empty"),
        ("ftp://example.com/hook", False, r"must start with https:// \(it has ftp://\)"),
        ("example.com/hook", False, r"must start with https:// \(it has no scheme\)"),
        ("http://example.com/hook", False, "must use https://"),
        ("http://example.com/hook", True, r"http:// only to a loopback host"),
        ("https://user:secret@example.com/hook", False, "user name or password"),
        ("https://token@example.com/hook", False, "user name or password"),
        ("https://example.com/hook#part", False, "fragment"),
        ("https:///hook", False, "no host name"),
        ("https://example.com:99999/hook", False, "malformed"),
        ("https://example.com:0/hook", False, "port must be between 1 and 65535"),
        ("https://exa mple.com/hook", False, "spaces or control characters"),
        ("https://2130706433/hook", False, "four decimal numbers"),  # 127.0.0.1 as one number
        ("https://0x7f.1/hook", False, "four decimal numbers"),
        ("https://127.1/hook", False, "four decimal numbers"),
        ("https://exa$mple.com/hook", False, "not a valid host name"),
        ("https://hooks..example.com/hook", False, "not a valid host name"),
        ("https://-hooks.example.com/hook", False, "not a valid host name"),
        ("https://10.0.0.5/hook", False, "10.0.0.5 is not a public internet address"),
        ("https://[fe80::1%25eth0]/hook", False, "zone index"),
        ("https://" + "a" * 2100 + ".example/", False, "longer than 2048"),
    ],
)
@pytest.mark.usefixtures("hosts_file")  # no DNS query leaves the machine
def test_check_url_explains_what_is_wrong(url, allow_loopback, message):
    with pytest.raises(ValueError, match=message):
        check_url(url, allow_loopback=allow_loopback)


@pytest.mark.parametrize(
    ("url", "allow_loopback"),
    [
        ("https://example.com/hook", False),
        ("https://hooks.example.org:8443/path?a=1&b=2", False),
        ("HTTPS://Example.COM/hook", False),
        ("https://8.8.8.8/hook", False),
        ("https://[2606:4700:4700::1111]/hook", False),
        ("https://bücher.example/hook", False),
        ("https://_hooks.example.com./hook", False),
        ("http://127.0.0.1:8000/hook", True),
        ("http://[::1]:8000/hook", True),
        ("http://localhost:8000/hook", True),
        ("https://127.0.0.1/hook", True),
    ],
)
@pytest.mark.usefixtures("hosts_file")  # no DNS query leaves the machine
def test_check_url_accepts_good_targets(url, allow_loopback):
    check_url(url, allow_loopback=allow_loopback)


def test_check_url_errors_are_transport_errors_too():
    assert issubclass(InvalidURL, TransportError) and issubclass(InvalidURL, ValueError)
    assert issubclass(RefusedAddress, TransportError) and issubclass(RefusedAddress, ValueError)
    with pytest.raises(InvalidURL):
        send("ftp://example.com/hook")


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("8.8.8.8", True),
        ("1.1.1.1", True),
        ("2606:4700:4700::1111", True),
        ("::ffff:8.8.8.8", True),
        ("64:ff9b::808:808", True),  # NAT64 of 8.8.8.8
        ("2002:808:808::1", True),  # 6to4 of 8.8.8.8
        ("127.0.0.1", False),
        ("127.8.9.10", False),
        ("10.0.0.5", False),
        ("172.31.255.255", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("100.100.100.200", False),
        ("0.0.0.0", False),
        ("255.255.255.255", False),
        ("224.0.0.251", False),
        ("239.255.255.250", False),
        ("240.0.0.1", False),
        ("198.18.0.1", False),
        ("203.0.113.7", False),
        ("::1", False),
        ("::", False),
        ("::127.0.0.1", False),  # IPv4-compatible (deprecated)
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.5", False),
        ("::ffff:169.254.169.254", False),
        ("fd00::1", False),
        ("fc00::1", False),
        ("fe80::1", False),
        ("fe80::1%2", False),
        ("fec0::1", False),
        ("ff0e::1", False),  # global-scope multicast is still multicast
        ("2001:db8::1", False),
        ("2001::1", False),  # Teredo
        ("3fff::1", False),
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
        ("64:ff9b:1::a00:5", False),  # local-use NAT64
        ("2002:a00:5::1", False),  # 6to4 of 10.0.0.5
        ("100::1", False),  # discard-only
    ],
)
def test_is_allowed_address_without_loopback(address, allowed):
    assert is_allowed_address(address, allow_loopback=False) is allowed


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("[::1]", True),
        ("10.0.0.5", False),
        ("169.254.169.254", False),
        ("2002:7f00:1::1", False),  # 6to4 to loopback leaves the machine: never loopback
        ("64:ff9b::7f00:1", False),  # so does NAT64
    ],
)
def test_is_allowed_address_with_loopback(address, allowed):
    assert is_allowed_address(address, allow_loopback=True) is allowed


def test_is_allowed_address_rejects_what_is_not_an_address():
    with pytest.raises(ValueError):
        is_allowed_address("example.com", allow_loopback=False)


# --- TLS: the vetted address is dialled, the host name is still the one checked ----------------


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> dict[str, Path]:
    """A throwaway certificate authority and a certificate for "localhost" it signed, made with
    the openssl command line tool."""
    folder = tmp_path_factory.mktemp("tls")
    files = {name: folder / name for name in ("ca.key", "ca.pem", "leaf.key", "leaf.csr")}
    files["leaf.pem"] = folder / "leaf.pem"
    extensions = folder / "leaf.ext"
    extensions.write_text(
        "subjectAltName=DNS:localhost\nbasicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"
    )

    def openssl(*arguments) -> None:
        subprocess.run(["openssl", *map(str, arguments)], check=True, capture_output=True)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl(
        *["req", "-x509", *ec, "-days", "2", "-subj", "/CN=Webhook test authority"],
        *["-keyout", files["ca.key"], "-out", files["ca.pem"]],
        *["-addext", "basicConstraints=critical,CA:TRUE"],
        *["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
    )
    openssl(
        *["req", *ec, "-subj", "/CN=localhost"],
        *["-keyout", files["leaf.key"], "-out", files["leaf.csr"]],
    )
    openssl(
        *["x509", "-req", "-in", files["leaf.csr"], "-days", "2", "-extfile", extensions],
        *["-CA", files["ca.pem"], "-CAkey", files["ca.key"], "-CAcreateserial"],
        *["-out", files["leaf.pem"]],
    )
    return files


@pytest.fixture
def tls_receiver(receiver, certificates):
    """A receiver speaking TLS with the "localhost" certificate, recording the SNI names sent."""
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(certificates["leaf.pem"], certificates["leaf.key"])
    names: list[str | None] = []
    server_context.sni_callback = lambda _sock, name, _context: names.append(name)
    server = receiver(answer(200, b"secure"), tls=server_context)
    server.sni_names = names
    return server


def trusting(certificates) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificates["ca.pem"]))


def test_tls_checks_the_url_host_name_while_dialling_the_vetted_address(tls_receiver, certificates):
    response = send(
        f"https://localhost:{tls_receiver.port}/hook",
        b"payload",
        allow_loopback=True,
        ssl_context=trusting(certificates),
    )
    assert (response.status, response.body) == (200, b"secure")
    assert tls_receiver.sni_names == ["localhost"]
    (request,) = tls_receiver.requests
    assert request["headers"]["Host"] == f"localhost:{tls_receiver.port}"
    assert request["body"] == b"payload"


def test_tls_to_an_address_the_certificate_does_not_name_fails(tls_receiver, certificates):
    with pytest.raises(TransportError, match=r"Could not connect.*IP address mismatch"):
        send(
            f"https://127.0.0.1:{tls_receiver.port}/hook",
            allow_loopback=True,
            ssl_context=trusting(certificates),
        )
    assert tls_receiver.requests == []


def test_tls_to_an_untrusted_certificate_fails(tls_receiver):
    with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
        send(f"https://localhost:{tls_receiver.port}/hook", allow_loopback=True)
    assert tls_receiver.requests == []


# --- More of what a hostile or broken endpoint can do ------------------------------------------


def test_ipv6_loopback_when_allowed(receiver):
    try:
        server = receiver(answer(200, b"six"), host="::1")
    except OSError as exc:  # pragma: no cover - a machine without IPv6 loopback
        pytest.skip(f"no IPv6 loopback here: {exc}")
    response = send(f"http://[::1]:{server.port}/hook", allow_loopback=True)
    assert (response.status, response.body) == (200, b"six")
    assert server.requests[0]["headers"]["Host"] == f"[::1]:{server.port}"
    assert response.address == "::1"
    with pytest.raises(RefusedAddress):
        send(f"https://[::1]:{server.port}/hook")
    assert server.connections == 1


def test_oversized_response_headers_are_a_transport_error(receiver):
    def huge_headers(handler, _body):
        handler.send_response(200)
        for number in range(200):
            handler.send_header(f"X-Filler-{number}", "f" * 1000)
        handler.end_headers()

    server = receiver(huge_headers)
    with pytest.raises(TransportError):
        send(server.url(), allow_loopback=True)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"X-Evil": "a\r\nX-Injected: 1"}, "printable ASCII on one line"),
        ({"X Evil": "a"}, "not a valid header name"),
        ({"Content-Length": "0"}, "set by the transport"),
        ({"transfer-encoding": "chunked"}, "set by the transport"),
    ],
)
def test_bad_request_headers_are_refused_before_sending(receiver, headers, message):
    server = receiver(answer(200))
    with pytest.raises(ValueError, match=message):
        send(server.url(), headers=headers, allow_loopback=True)
    assert server.connections == 0


# --- Settings --------------------------------------------------------------------------------


def webhook_settings(tmp_path, **env: str) -> subprocess.CompletedProcess:
    """Load the settings in a fresh interpreter with only the given environment."""
    code = (
        "import json, tracker.settings as s; print(json.dumps("
        "[s.WEBHOOK_ALLOW_LOOPBACK, s.WEBHOOK_TIMEOUT_SECONDS, s.WEBHOOK_MAX_RESPONSE_BYTES]))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "VAR_DIR": str(tmp_path / "var"),
            "DJANGO_DEBUG": "true",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_webhook_settings_default_to_the_safe_values(tmp_path):
    result = webhook_settings(tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [False, 10, 65536]


def test_webhook_settings_come_from_the_environment(tmp_path):
    result = webhook_settings(
        tmp_path,
        WEBHOOK_ALLOW_LOOPBACK="true",
        WEBHOOK_TIMEOUT_SECONDS="5",
        WEBHOOK_MAX_RESPONSE_BYTES="1024",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [True, 5, 1024]


def test_a_webhook_timeout_past_the_task_time_limit_is_refused(tmp_path):
    result = webhook_settings(
        tmp_path, WEBHOOK_TIMEOUT_SECONDS="90", CELERY_TASK_SOFT_TIME_LIMIT="60"
    )
    assert result.returncode != 0
    assert "WEBHOOK_TIMEOUT_SECONDS must be less than CELERY_TASK_SOFT_TIME_LIMIT" in result.stderr
