"""Outgoing mail through the organisation's MTA: one SMTP transaction per message (RFC 5321), replies kept per
recipient.

The transaction is driven command by command rather than with aiosmtplib's ``sendmail``: that keeps only the
refusals, while JMAP's ``deliveryStatus`` wants the relay's reply to every RCPT TO, accepted ones included
(RFC 8621 §7). A connection is opened per message: submissions are rare next to the cost of a connection, and an
idle pooled one would need liveness checks the relay may not like.

TLS (``smtp.tls``): ``auto`` upgrades with STARTTLS when the relay offers it, ``starttls`` refuses to go on
without it, ``implicit`` speaks TLS from the first byte (port 465), ``off`` never does. Certificates are checked
against the system trust store whenever TLS is used.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from aiosmtplib import SMTP, SMTPException, SMTPRecipientRefused, SMTPResponseException

from gateway.settings import Settings, parse_listen

TIMEOUT_SECONDS = 60.0
"""For connecting and for each reply, DATA included."""
_ENHANCED_CODE = re.compile(r"[245]\.\d{1,3}\.\d{1,3} ")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_MAILBOX = re.compile(
    rf'(?:{_ATOM}(?:\.{_ATOM})*|"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*")'
    rf"@(?:{_LABEL}(?:\.{_LABEL})*|\[[\x21-\x5a\x5e-\x7e]+\])"
)


def is_mailbox(address: str) -> bool:
    """Whether ``address`` is a Mailbox of RFC 5321 §4.1.2 that can go in MAIL FROM or RCPT TO without SMTPUTF8
    (not offered): ASCII, a local part of at most 64 octets, at most 254 in all (§4.5.3.1)."""
    local = address.rpartition("@")[0]
    return _MAILBOX.fullmatch(address) is not None and len(local) <= 64 and len(address) <= 254


@dataclass(frozen=True, slots=True)
class RelayReply:
    code: int
    message: str
    """The reply text without the code; lines of a multi-line reply joined by ``\\n``."""

    @property
    def accepted(self) -> bool:
        return 200 <= self.code < 300

    @property
    def text(self) -> str:
        """The reply on one line as RFC 8621 §7 wants ``smtpReply``: a repeated enhanced status code is dropped
        from the continuation lines and the lines are joined with spaces, so ``550-5.7.1 a`` / ``550 5.7.1 b``
        becomes ``550 5.7.1 a b``."""
        lines = self.message.split("\n")
        prefix = match[0] if (match := _ENHANCED_CODE.match(lines[0])) else None
        rest = [line.removeprefix(prefix) if prefix else line for line in lines[1:]]
        return " ".join([str(self.code), *(line for line in [lines[0], *rest] if line)])


@dataclass(frozen=True, slots=True)
class RelayResult:
    replies: dict[str, RelayReply]
    """The relay's reply to each RCPT TO, by recipient address."""

    @property
    def accepted(self) -> list[str]:
        return [address for address, reply in self.replies.items() if reply.accepted]


Stage = Literal["connect", "mail", "data"]


class RelayUnavailable(Exception):
    """The relay could not be reached or refused the whole transaction (temporary or permanent)."""

    def __init__(self, description: str, reply: RelayReply | None = None, *, stage: Stage = "connect") -> None:
        super().__init__(description)
        self.description = description
        self.reply = reply
        """The refusing reply, when the relay gave one."""
        self.stage = stage
        """Where it failed: ``connect`` (reaching, TLS, EHLO, AUTH), ``mail`` (MAIL FROM) or ``data``."""


class Relay:
    def __init__(self, settings: Settings) -> None:
        if settings.smtp_relay is None:
            raise ValueError("no relay configured")
        self.settings = settings
        self.host, self.port = parse_listen(settings.smtp_relay)
        self.ehlo_name = settings.effective_mail_domain
        """Looked up once: ``socket.getfqdn`` may block on DNS."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Relay | None:
        return cls(settings) if settings.smtp_relay else None

    def _client(self) -> SMTP:
        mode = self.settings.smtp_tls
        return SMTP(
            hostname=self.host,
            port=self.port,
            local_hostname=self.ehlo_name,
            timeout=TIMEOUT_SECONDS,
            use_tls=mode == "implicit",
            start_tls={"auto": None, "starttls": True}.get(mode, False),
            username=self.settings.smtp_username,
            password=self.settings.smtp_password,
        )

    async def send(self, mail_from: str, rcpt_to: Sequence[str], message: bytes) -> RelayResult:
        """Offer ``message`` to every recipient; ``mail_from`` may be ``""`` (the null reverse-path, ``<>``). DATA
        follows only when at least one recipient was accepted. Raises RelayUnavailable when nothing could be
        handed over for a reason other than the recipients."""
        client = self._client()
        try:
            await client.connect()
        except (SMTPException, OSError) as exc:
            reply = RelayReply(exc.code, exc.message) if isinstance(exc, SMTPResponseException) else None
            raise RelayUnavailable(f"The mail relay {self.host}:{self.port} cannot be used: {exc}", reply) from exc
        try:
            result = await self._transaction(client, mail_from, rcpt_to, message)
            with contextlib.suppress(SMTPException, OSError):
                await client.quit()  # the transaction is over; a lost QUIT changes nothing
        except (SMTPException, OSError) as exc:
            raise RelayUnavailable(f"The connection to the mail relay failed: {exc}") from exc
        finally:
            client.close()
        return result

    async def _transaction(self, client: SMTP, mail_from: str, rcpt_to: Sequence[str], message: bytes) -> RelayResult:
        options = [f"SIZE={len(message)}"] if client.supports_extension("size") else []
        if not message.isascii() and client.supports_extension("8bitmime"):
            options.append("BODY=8BITMIME")
        try:
            await client.mail(mail_from, options=options)
        except SMTPResponseException as exc:
            reply = RelayReply(exc.code, exc.message)
            raise RelayUnavailable(f"The mail relay refused the sender: {reply.text}", reply, stage="mail") from exc
        replies: dict[str, RelayReply] = {}
        for recipient in rcpt_to:
            try:
                response = await client.rcpt(recipient)
                replies[recipient] = RelayReply(response.code, response.message)
            except SMTPRecipientRefused as exc:
                replies[recipient] = RelayReply(exc.code, exc.message)
        result = RelayResult(replies)
        if not result.accepted:
            return result
        try:
            final = await client.data(message)
        except SMTPResponseException as exc:
            reply = RelayReply(exc.code, exc.message)
            raise RelayUnavailable(f"The mail relay refused the message: {reply.text}", reply, stage="data") from exc
        # The reply to DATA ("250 2.0.0 Ok: queued as ...") is what the relay last said about accepted recipients,
        # and it names the relay's queue id, which lets an administrator trace the message.
        accepted = RelayReply(final.code, final.message)
        return RelayResult({rcpt: accepted if reply.accepted else reply for rcpt, reply in replies.items()})
