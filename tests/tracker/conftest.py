import ipaddress
import socket
from collections.abc import Iterator

import pytest

from tests.tracker.reminders import SmtpServer


@pytest.fixture
def smtp_server(settings) -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) the project's e-mail settings point at."""
    server = SmtpServer()
    server.start()
    for name, value in server.settings().items():
        setattr(settings, name, value)
    yield server
    server.stop()


# How a typical Debian host answers its loopback names (/etc/hosts, and systemd-resolved for the
# fully qualified "localhost."); this machine may answer fewer of them, the probe's did answer.
LOOPBACK_NAMES = {
    "localhost.": ["127.0.0.1", "::1"],
    "localhost.localdomain": ["127.0.0.1"],
    "ip6-localhost": ["::1"],
    "ip6-loopback": ["::1"],
}


@pytest.fixture
def hosts_file(monkeypatch) -> dict[str, list[str]]:
    """Host names answered from a table, as /etc/hosts would answer them, so that no DNS query
    leaves the machine: LOOPBACK_NAMES, "localhost" and IP literals as the system answers them,
    any other name unknown. Add names to the returned table to make them resolve."""
    system = socket.getaddrinfo
    table = {name: list(addresses) for name, addresses in LOOPBACK_NAMES.items()}

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else str(host)
        try:
            ipaddress.ip_address(name.partition("%")[0])
        except ValueError:
            if name.lower() != "localhost":
                return _answers(name.lower(), port)
        return system(host, port, family, type, proto, flags)

    def _answers(name: str, port) -> list:
        if name not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port, 0, 0))
            if ":" in address
            else (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))
            for address in table[name]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table
