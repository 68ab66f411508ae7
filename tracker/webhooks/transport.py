"""The HTTP POST that webhook deliveries use, safe against server-side request forgery.

An endpoint's URL is chosen by an API client, so the sender must not become a way to reach the
machines around it (the cloud metadata service at 169.254.169.254, a database on 10.0.0.5, the
tracker's own admin on 127.0.0.1). The rules, each enforced here and nowhere else:

* Only ``https`` URLs; plain ``http`` only to a loopback host when loopback is allowed (tests and
  local development, ``WEBHOOK_ALLOW_LOOPBACK``), and then only to an address that really is
  loopback, whatever the name resolves to. No user name or password in the URL.
* The host name is resolved here, once, and **every** address it resolves to must be allowed
  (global unicast; loopback only when allowed): a name with any internal address among its
  answers is refused outright rather than half-trusted. The connection is then made to one of
  those vetted addresses, never to the name, so DNS cannot answer differently between the check
  and the connection (rebinding). Registration (:func:`check_url`) resolves and vets the same
  way, so a name that resolves to an internal address is refused when it is registered too.
  The address the socket actually connected to is checked again. The Host header, TLS SNI and
  certificate check still use the host name from the URL.
* Refused addresses are refused before any packet is sent to them.
* Redirects are never followed: a 3xx comes back as a :class:`Response` like any other status.
* The response body is read up to ``max_bytes`` (one byte more tells that there was more), and the
  whole exchange (name resolution, connection, TLS, request, response) must finish within
  ``timeout`` seconds overall, so a server that drips one byte at a time cannot hold a worker.
* Environment proxy settings are ignored: deliveries go straight to the vetted address.

Errors are :class:`TransportError` (connection refused or reset, TLS or DNS failure, a malformed
response), :class:`Timeout` and :class:`RefusedAddress`; a URL that breaks the rules raises
:class:`InvalidURL` from :func:`check_url` and :func:`post` alike. :class:`InvalidURL` and
:class:`RefusedAddress` are also ValueErrors: nothing was sent, and sending again will not help
until the URL (or, for a name, what it resolves to) changes. :class:`Timeout` and other
transport errors may succeed on a later attempt.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import httpcore

__all__ = [
    "MAX_RETRY_AFTER",
    "InvalidURL",
    "RefusedAddress",
    "Response",
    "Timeout",
    "TransportError",
    "check_url",
    "is_allowed_address",
    "post",
]

# A Retry-After further away than this is read as this: a receiver cannot park a delivery for
# longer than a day with one header (deliveries are retried for 72 hours in all).
MAX_RETRY_AFTER = timedelta(hours=24)
# Longest URL accepted (the common limit of browsers and servers).
MAX_URL_LENGTH = 2048
USER_AGENT = "OnlineSafetyActTracker-Webhooks/1"
# Headers the transport writes itself from the URL and the body.
_RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
# RFC 9110 5.1 token for names; values are kept to printable ASCII and spaces (no line breaks).
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"[\x20-\x7e]*")
# Host names after IDNA encoding: dot-separated labels of letters, digits, hyphens, underscores.
_HOST_NAME = re.compile(
    r"(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.?"
)


class TransportError(Exception):
    """The request could not be made or answered: refused or reset connection, TLS or DNS failure,
    a malformed response."""


class Timeout(TransportError):
    """Resolving, connecting, sending or reading took longer than the time allowed overall."""


class RefusedAddress(TransportError, ValueError):
    """The target is, resolves to or connected to an address deliveries may not reach."""


class InvalidURL(TransportError, ValueError):
    """The URL is not one deliveries may be sent to (scheme, user information, malformed)."""


# --- Addresses ---------------------------------------------------------------------------------

# IANA special-purpose IPv4 blocks (RFC 6890 and successors) that are not globally reachable,
# plus multicast and the reserved 240/4, listed here so the rule does not depend on which
# Python patch release's ``is_global`` is installed.
_BLOCKED_V4 = tuple(
    ipaddress.IPv4Network(net)
    for net in (
        "0.0.0.0/8",  # "this network", including 0.0.0.0
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # shared address space (carrier-grade NAT; 100.100.100.200 metadata)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local (169.254.169.254 cloud metadata)
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation (TEST-NET-1)
        "192.88.99.0/24",  # deprecated 6to4 relay anycast
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation (TEST-NET-2)
        "203.0.113.0/24",  # documentation (TEST-NET-3)
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, including 255.255.255.255
    )
)
# Global unicast IPv6 is 2000::/3; within it these are not globally reachable.
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
_BLOCKED_V6 = tuple(
    ipaddress.IPv6Network(net)
    for net in (
        "2001::/23",  # IETF protocol assignments (Teredo, benchmarking, ORCHID)
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4: judged by the IPv4 address it embeds, see below
        "3fff::/20",  # documentation (RFC 9637)
    )
)
_NAT64_V6 = ipaddress.IPv6Network("64:ff9b::/96")  # well-known NAT64 prefix (RFC 6052)
_SIX_TO_FOUR_V6 = ipaddress.IPv6Network("2002::/16")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parse_ip(ip: str | IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return ip
    text = str(ip).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return ipaddress.ip_address(text)


def _allowed_v4(addr: ipaddress.IPv4Address, allow_loopback: bool) -> bool:
    if addr.is_loopback:
        return allow_loopback
    if any(addr in net for net in _BLOCKED_V4):
        return False
    return addr.is_global


def is_allowed_address(ip: str | IPAddress, *, allow_loopback: bool) -> bool:
    """Whether a delivery may connect to ``ip``: a globally reachable unicast address, or a
    loopback address when ``allow_loopback``. IPv6 addresses that embed an IPv4 address
    (IPv4-mapped ``::ffff:a.b.c.d``, NAT64 ``64:ff9b::a.b.c.d``, 6to4 ``2002:AABB:CCDD::``) are
    judged by the IPv4 address they lead to. Raises ValueError when ``ip`` is not an address."""
    addr = _parse_ip(ip)
    if isinstance(addr, ipaddress.IPv4Address):
        return _allowed_v4(addr, allow_loopback)
    if addr.scope_id:
        return False  # a zone index only means something on a local link
    if addr.ipv4_mapped is not None:
        return _allowed_v4(addr.ipv4_mapped, allow_loopback)
    # NAT64 and 6to4 go through a gateway, so even with loopback allowed they never mean this
    # machine: the IPv4 address they carry must be global.
    if addr in _NAT64_V6:
        embedded = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
        return _allowed_v4(embedded, allow_loopback=False)
    if addr in _SIX_TO_FOUR_V6:
        return addr.sixtofour is not None and _allowed_v4(addr.sixtofour, allow_loopback=False)
    if addr.is_loopback:  # ::1
        return allow_loopback
    if addr not in _GLOBAL_UNICAST_V6:  # ::, ::/96, fc00::/7, fe80::/10, fec0::/10, ff00::/8, ...
        return False
    if any(addr in net for net in _BLOCKED_V6):
        return False
    return addr.is_global


# --- URLs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # IDNA-encoded name, or an IP address without brackets
    port: int
    target: str  # path and query
    ip: IPAddress | None  # the host, when it is an IP address literal

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if isinstance(self.ip, ipaddress.IPv6Address) else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def _parse_url(url: str, *, allow_loopback: bool) -> _Target:
    if not isinstance(url, str) or not url.strip():
        raise InvalidURL("The URL is empty.")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidURL(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise InvalidURL("The URL contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidURL(f"The URL is malformed: {exc}.") from None
    scheme = parts.scheme.lower()
    if scheme not in {"https", "http"}:
        shown = f"{parts.scheme}://" if parts.scheme else "no scheme"
        raise InvalidURL(f"The URL must start with https:// (it has {shown}).")
    if "@" in parts.netloc:
        raise InvalidURL("The URL must not contain a user name or password (user@host).")
    if parts.fragment or url.endswith("#"):
        raise InvalidURL("The URL must not contain a fragment (#...).")
    raw_host = parts.hostname
    if not raw_host:
        raise InvalidURL("The URL has no host name.")
    if port == 0:
        raise InvalidURL("The URL's port must be between 1 and 65535.")

    ip: IPAddress | None = None
    try:
        ip = ipaddress.ip_address(raw_host)
    except ValueError:
        if parts.netloc.startswith("["):
            raise InvalidURL(f"{raw_host!r} in brackets is not an IPv6 address.") from None
    if ip is not None:
        if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
            raise InvalidURL("The URL must not carry an IPv6 zone index (%...).")
        host = str(ip)
        if not is_allowed_address(ip, allow_loopback=allow_loopback):
            raise RefusedAddress(
                f"{host} is not a public internet address: deliveries cannot be sent to "
                "loopback, private, link-local, shared, reserved or otherwise internal addresses."
            )
    else:
        try:
            host = raw_host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise InvalidURL(f"{raw_host!r} is not a valid host name.") from None
        if len(host) > 253 or not _HOST_NAME.fullmatch(host):
            raise InvalidURL(f"{raw_host!r} is not a valid host name.")
        try:
            # inet_aton takes shorthand such as 127.1, 0x7f.0.0.1 or 2130706433, which resolvers
            # would turn into an address; ask for the dotted form so what is checked is clear.
            socket.inet_aton(host)
        except OSError:
            pass
        else:
            raise InvalidURL(
                f"{raw_host!r} is not a host name; write IPv4 addresses as four decimal numbers."
            )

    if ip is not None:
        mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
        loopback_host = (mapped or ip).is_loopback
    else:
        loopback_host = host == "localhost" or host.endswith(".localhost")
    if scheme == "http" and not (allow_loopback and loopback_host):
        if allow_loopback:
            raise InvalidURL("The URL must use https:// (http:// only to a loopback host).")
        raise InvalidURL("The URL must use https://.")

    path = parts.path or "/"
    target = f"{path}?{parts.query}" if parts.query else path
    return _Target(
        scheme=scheme,
        host=host,
        port=port or (443 if scheme == "https" else 80),
        target=target,
        ip=ip,
    )


# Registration waits this long at most for a name to resolve.
CHECK_RESOLVE_TIMEOUT = 5.0


def check_url(
    url: str, *, allow_loopback: bool, resolve_timeout: float = CHECK_RESOLVE_TIMEOUT
) -> None:
    """Raise ValueError (:class:`InvalidURL`, or :class:`RefusedAddress` for an address or a
    name resolving to one that deliveries may not reach) with a message fit to show the client
    when ``url`` cannot be a webhook endpoint. A name is resolved and vetted as a delivery does
    it (the same code), so ``localhost.`` or ``ip6-localhost`` is refused at once. A name that
    does not resolve (yet) passes: no address, no danger, and every delivery resolves and
    checks it again, since DNS answers can change after registration."""
    target = _parse_url(url, allow_loopback=allow_loopback)
    if target.ip is not None:
        return  # _parse_url has judged the address
    backend = _VettedBackend(
        allow_loopback=allow_loopback,
        loopback_only=target.scheme == "http",
        deadline=time.monotonic() + resolve_timeout,
    )
    try:
        backend.vetted_addresses(target.host, target.port)
    except RefusedAddress:
        raise
    except TransportError:  # not resolvable now (or slow): the deliveries will tell
        pass


# --- Connecting --------------------------------------------------------------------------------


def _remaining(deadline: float, what: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise Timeout(f"The time allowed ran out while {what}.")
    return left


def _resolve(host: str, port: int, *, deadline: float) -> list[tuple[str, IPAddress]]:
    """getaddrinfo in a helper thread, so a slow resolver cannot outlast the deadline."""
    outcome: dict[str, Any] = {}

    def lookup() -> None:
        try:
            outcome["infos"] = socket.getaddrinfo(
                host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
        except OSError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=lookup, name="webhook-resolve", daemon=True)
    thread.start()
    thread.join(_remaining(deadline, f"resolving {host}"))
    if thread.is_alive():
        raise Timeout(f"The time allowed ran out while resolving {host}.")
    if "error" in outcome:
        raise TransportError(f"Could not resolve {host}: {outcome['error']}.")
    addresses: list[tuple[str, IPAddress]] = []
    for _family, _type, _proto, _name, sockaddr in outcome["infos"]:
        text = str(sockaddr[0])
        addr = _parse_ip(text)
        if isinstance(addr, ipaddress.IPv6Address) and len(sockaddr) >= 4 and sockaddr[3]:
            # A scoped (link-local) answer: keep the zone so that it is refused.
            addr = ipaddress.IPv6Address(f"{text.partition('%')[0]}%{sockaddr[3]}")
        if (text, addr) not in addresses:
            addresses.append((text, addr))
    if not addresses:
        raise TransportError(f"Could not resolve {host}: no addresses.")
    return addresses


class _BoundedStream(httpcore.NetworkStream):
    """A network stream whose every read, write and TLS handshake gets at most the time left
    before the deadline, so the exchange as a whole is bounded, not just each step."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner = inner
        self._deadline = deadline

    def _budget(self, timeout: float | None, error: type[Exception], what: str) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise error(f"The time allowed ran out while {what}.")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        budget = self._budget(timeout, httpcore.ReadTimeout, "reading the response")
        return self._inner.read(max_bytes, budget)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        budget = self._budget(timeout, httpcore.WriteTimeout, "sending the request")
        self._inner.write(buffer, budget)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        budget = self._budget(timeout, httpcore.ConnectTimeout, "negotiating TLS")
        return _BoundedStream(
            self._inner.start_tls(ssl_context, server_hostname, budget), self._deadline
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _VettedBackend(httpcore.NetworkBackend):
    """Resolves the host itself and connects only to addresses that pass
    :func:`is_allowed_address`, by IP, within the deadline."""

    def __init__(self, *, allow_loopback: bool, loopback_only: bool, deadline: float) -> None:
        self._allow_loopback = allow_loopback
        self._loopback_only = loopback_only
        self._deadline = deadline
        self._tcp = httpcore.SyncBackend()
        self.connected_to: str | None = None

    def _allowed(self, addr: IPAddress) -> bool:
        if not is_allowed_address(addr, allow_loopback=self._allow_loopback):
            return False
        if self._loopback_only:  # plain http: this machine only, whatever the name resolves to
            mapped = addr.ipv4_mapped if isinstance(addr, ipaddress.IPv6Address) else None
            return (mapped or addr).is_loopback
        return True

    def vetted_addresses(self, host: str, port: int) -> list[tuple[str, IPAddress]]:
        """The addresses ``host`` resolves to, every one allowed, else :class:`RefusedAddress`
        (any refused answer refuses the name). Used by registration (:func:`check_url`) and
        by every delivery alike."""
        try:
            literal: IPAddress | None = _parse_ip(host)
        except ValueError:
            literal = None
        if literal is not None:
            candidates = [(str(literal), literal)]
        else:
            candidates = _resolve(host, port, deadline=self._deadline)
        refused = [str(addr) for _text, addr in candidates if not self._allowed(addr)]
        if refused:
            if self._loopback_only:
                raise RefusedAddress(
                    f"{host} resolves to {', '.join(refused)}: plain http:// goes to loopback only."
                )
            raise RefusedAddress(
                f"{host} resolves to {', '.join(refused)}, not a public internet address: "
                "deliveries cannot be sent to internal addresses."
            )
        return candidates

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        candidates = self.vetted_addresses(host, port)
        last_error: Exception | None = None
        for text, _addr in candidates:
            left = _remaining(self._deadline, f"connecting to {host}")
            try:
                stream = self._tcp.connect_tcp(
                    text,
                    port,
                    timeout=left if timeout is None else min(timeout, left),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
                continue
            peer = stream.get_extra_info("server_addr")
            peer_ip = peer[0] if isinstance(peer, tuple) else None
            if peer_ip is None or not self._allowed(_parse_ip(peer_ip)):
                stream.close()
                raise RefusedAddress(f"The connection to {host} reached {peer_ip}: refused.")
            self.connected_to = str(peer_ip)
            return _BoundedStream(stream, self._deadline)
        assert last_error is not None
        raise last_error

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise RefusedAddress("Deliveries are never sent over Unix sockets.")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    return httpcore.default_ssl_context()


# --- Responses ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    """What an endpoint answered. ``body`` holds at most ``max_bytes``; ``size`` counts what was
    read (``max_bytes + 1`` when there was more); ``headers`` have lower-case names, repeated
    headers joined with ", "; ``address`` is the vetted IP address the request went to."""

    status: int
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    size: int
    truncated: bool
    elapsed: float
    address: str | None = None  # the IP address the connection went to

    def retry_after(self, *, now: datetime) -> timedelta | None:
        """The delay the Retry-After header asks for, as seconds or an HTTP-date (RFC 9110
        10.2.3), between zero and :data:`MAX_RETRY_AFTER`; None when absent or unreadable.
        ``now`` must be timezone-aware (it is compared with an HTTP-date)."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        raw = self.headers.get("retry-after")
        if raw is None:
            return None
        value = raw.strip()
        if value.isdigit() and value.isascii():
            delay = timedelta(seconds=min(int(value), MAX_RETRY_AFTER.total_seconds()))
        else:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError, OverflowError):
                return None
            if when.tzinfo is None:  # asctime form and "-0000": HTTP-dates are always UTC
                when = when.replace(tzinfo=UTC)
            delay = when - now
        return max(timedelta(0), min(delay, MAX_RETRY_AFTER))


def _header_map(raw: Iterable[tuple[bytes, bytes]]) -> Mapping[str, str]:
    headers: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return MappingProxyType(headers)


# --- Sending -----------------------------------------------------------------------------------


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float,
    max_bytes: int,
    allow_loopback: bool,
    ssl_context: ssl.SSLContext | None = None,
) -> Response:
    """POST ``body`` to ``url`` with ``headers``, under the rules in this module's docstring.

    Returns the response whatever its status (a 3xx is not followed). Raises
    :class:`InvalidURL` or :class:`RefusedAddress` before sending anything when the target is
    not allowed, :class:`Timeout` when ``timeout`` seconds pass before the response is read (up
    to ``max_bytes``), and :class:`TransportError` for any other failure. ``ssl_context``
    replaces the default (system settings, certifi's certificate authorities), e.g. to trust a
    test authority; certificates are always checked against the URL's host name.
    """
    started = time.monotonic()
    if not isinstance(body, bytes | bytearray):
        raise TypeError("body must be bytes")
    if timeout <= 0:
        raise ValueError("timeout must be positive")
    if max_bytes < 0:
        raise ValueError("max_bytes must not be negative")
    deadline = started + timeout
    target = _parse_url(url, allow_loopback=allow_loopback)

    request_headers: list[tuple[str, str]] = [("Host", target.host_header)]
    given = set()
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a valid header name.")
        if not isinstance(value, str) or not _HEADER_VALUE.fullmatch(value):
            raise ValueError(f"The {name} header's value must be printable ASCII on one line.")
        lower = name.lower()
        if lower in _RESERVED_HEADERS:
            raise ValueError(f"The {name} header is set by the transport, not by the caller.")
        given.add(lower)
        request_headers.append((name, value))
    if "user-agent" not in given:
        request_headers.append(("User-Agent", USER_AGENT))
    if "accept-encoding" not in given:
        # The body is read as sent (no decompression), so ask for it uncompressed.
        request_headers.append(("Accept-Encoding", "identity"))
    request_headers.append(("Connection", "close"))

    backend = _VettedBackend(
        allow_loopback=allow_loopback, loopback_only=target.scheme == "http", deadline=deadline
    )
    where = f"{target.host}:{target.port}"
    step = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
    if ssl_context is None and target.scheme == "https":
        ssl_context = _default_ssl_context()
    pool = httpcore.ConnectionPool(
        ssl_context=ssl_context,
        max_connections=1,
        http1=True,
        http2=False,
        retries=0,
        network_backend=backend,
    )
    try:
        with (
            pool,
            pool.stream(
                "POST",
                httpcore.URL(
                    scheme=target.scheme, host=target.host, port=target.port, target=target.target
                ),
                headers=request_headers,
                content=bytes(body),
                extensions={"timeout": step},
            ) as answer,
        ):
            chunks: list[bytes] = []
            size = 0
            for chunk in answer.iter_stream():
                chunks.append(chunk)
                size += len(chunk)
                if size > max_bytes:
                    break
            data = b"".join(chunks)
            return Response(
                status=answer.status,
                headers=_header_map(answer.headers),
                body=data[:max_bytes],
                size=min(size, max_bytes + 1),
                truncated=size > max_bytes,
                elapsed=time.monotonic() - started,
                address=backend.connected_to,
            )
    except TransportError:
        raise
    except httpcore.TimeoutException as exc:
        raise Timeout(f"No complete answer from {where} within {timeout:g}s: {exc}") from exc
    except httpcore.ConnectError as exc:
        raise TransportError(f"Could not connect to {where}: {exc or 'connection failed'}") from exc
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
        raise TransportError(
            f"The exchange with {where} failed: {exc or type(exc).__name__}"
        ) from exc
