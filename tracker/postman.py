"""Handing a batch's e-mails to the SMTP server on a thread of its own, so that the sender's
database work (marking the last e-mail sent, reading and building the next) overlaps the
server's round trips instead of waiting for them.

The e-mails go one after another over the batch's one connection, as smtplib's sendmail() sends
them (MAIL FROM, RCPT TO, DATA). The DATA of each e-mail — the moment the server takes it — waits
until the sender lets the parcel through, which it does only once the e-mail before is marked
sent: a crash can still leave at most one e-mail sent and not marked, as when each e-mail was
sent and marked in turn.
"""

import contextlib
import smtplib
import threading
from collections.abc import Callable
from queue import SimpleQueue


class NotLetThrough(Exception):
    """The sender stopped before letting the parcel through: its DATA was never sent."""


class Parcel:
    """One e-mail handed over. `outcome()` waits until the server took it (None) or the attempt
    failed (the exception); `let_through()` allows its DATA, `hold_back()` cancels it."""

    def __init__(self, sender: str = "", recipient: str = "", raw: bytes = b"") -> None:
        self.sender, self.recipient, self.raw = sender, recipient, raw
        self._go = threading.Event()
        self._held_back = False
        self._done = threading.Event()
        self._error: BaseException | None = None

    @classmethod
    def inline(cls, send: Callable[[], object]) -> "Parcel":
        """A parcel sent in this thread when it is let through: for a backend that is not
        SMTP (a file, memory), which has no round trips to overlap."""
        parcel = cls()
        parcel._send_inline = send
        return parcel

    _send_inline: Callable[[], object] | None = None

    def let_through(self) -> None:
        if self._send_inline is None:
            self._go.set()
            return
        try:
            self._send_inline()
        except Exception as error:  # handed to the sender, which records it
            self._finish(error)
        else:
            self._finish(None)

    def hold_back(self) -> None:
        self._held_back = True
        self._go.set()
        if self._send_inline is not None:
            self._finish(NotLetThrough())

    def outcome(self) -> BaseException | None:
        self._done.wait()
        return self._error

    def _finish(self, error: BaseException | None) -> None:
        self._error = error
        self._done.set()


class Postman:
    """The thread that speaks to the SMTP server for a batch. Every parcel handed over must be
    let through or held back before stop(), or the thread waits for it forever."""

    def __init__(self, smtp: smtplib.SMTP) -> None:
        self.smtp = smtp
        self._parcels: SimpleQueue[Parcel | None] = SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="postman", daemon=True)
        self._thread.start()

    def hand(self, sender: str, recipient: str, raw: bytes) -> Parcel:
        parcel = Parcel(sender, recipient, raw)
        self._parcels.put(parcel)
        return parcel

    def stop(self) -> None:
        self._parcels.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (parcel := self._parcels.get()) is not None:
            try:
                self._send(parcel)
            except Exception as error:  # handed to the sender, which records it
                parcel._finish(error)
            else:
                parcel._finish(None)

    def _send(self, parcel: Parcel) -> None:
        """smtplib's sendmail() for one recipient, with a wait before DATA."""
        smtp = self.smtp
        smtp.ehlo_or_helo_if_needed()
        options = []
        if smtp.does_esmtp and smtp.has_extn("size"):
            options.append(f"size={len(parcel.raw)}")
        code, response = smtp.mail(parcel.sender, options)
        if code != 250:
            self._abandon(code)
            raise smtplib.SMTPSenderRefused(code, response, parcel.sender)
        code, response = smtp.rcpt(parcel.recipient)
        if code not in (250, 251):
            self._abandon(code)
            raise smtplib.SMTPRecipientsRefused({parcel.recipient: (code, response)})
        parcel._go.wait()
        if parcel._held_back:
            self._abandon(0)
            raise NotLetThrough
        code, response = smtp.data(parcel.raw)
        if code != 250:
            self._abandon(code)
            raise smtplib.SMTPDataError(code, response)

    def _abandon(self, code: int) -> None:
        """As sendmail() leaves a refused transaction: closed on 421, else reset."""
        if code == 421:
            self.smtp.close()
        else:
            with contextlib.suppress(smtplib.SMTPServerDisconnected, OSError):
                self.smtp.rset()
