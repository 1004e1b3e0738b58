"""LMTP (RFC 2033): the MTA hands incoming mail to the gateway, which answers for each recipient.

aiosmtpd's LMTP protocol runs on the app's own event loop (``loop.create_server``), so deliveries share the app's
store with its single writer lock and its change bus (JMAP push sees new mail at once); aiosmtpd's Controller would
run a second event loop in a thread. What aiosmtpd leaves to us, in a small subclass:

- After DATA, one reply per accepted recipient in RCPT order (§4.2), which the MTA waits for: aiosmtpd answers
  some DATA failures (too much data, a line too long) and any exception with one line, so a one-line answer to
  DATA is repeated for every recipient.
- PIPELINING and ENHANCEDSTATUSCODES, which an LMTP server must implement (§5): aiosmtpd pipelines (it reads
  commands from a buffered stream) but advertises neither, and its own replies carry no enhanced code, which
  RFC 2034 §3 requires on every 2xx, 4xx and 5xx reply but the greeting and the LHLO answer; one is derived from the
  reply code.

What to do with each recipient and message is ``protocols.services.delivery``'s business.
"""

from __future__ import annotations

import asyncio
import logging
import re
import weakref
from typing import Any, AnyStr

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import Envelope, Session, syntax

from gateway.settings import Settings, parse_listen
from protocols.services.delivery import BAD_ADDRESS, Delivery, Recipient, Reply, well_formed
from protocols.smtp import Relay
from storage.api import Store

log = logging.getLogger(__name__)

IDENT = "groupware gateway LMTP"
HAS_ENHANCED_CODE = re.compile(r"\d{3}[ -][245]\.\d{1,3}\.\d{1,3}(?: |$)")
ENHANCED_BY_REPLY = {
    "500": "5.5.2",  # syntax error, command unrecognised, line too long
    "501": "5.5.4",  # syntax error in parameters
    "502": "5.5.1",
    "503": "5.5.1",  # bad sequence of commands
    "504": "5.5.4",
    "552": "5.3.4",  # aiosmtpd's size refusals (MAIL SIZE=, too much data)
    "553": "5.1.3",
    "555": "5.5.4",
}
"""RFC 3463 codes for aiosmtpd's own replies; any other reply gets its class's ``X.0.0``."""
INTERNAL_ERROR = "451 4.3.0 Internal error, try again later"


def with_enhanced_code(line: str) -> str:
    """``line`` with an RFC 3463 code after its reply code, unless it has one, is the greeting (220) or is not a
    2xx, 4xx or 5xx reply."""
    if line[:1] not in ("2", "4", "5") or line.startswith("220") or HAS_ENHANCED_CODE.match(line):
        return line
    code = line[:3]
    return f"{code}{line[3:4] or ' '}{ENHANCED_BY_REPLY.get(code, code[0] + '.0.0')} {line[4:]}".rstrip()


class DeliveryEnvelope(Envelope):
    """aiosmtpd's envelope plus the recipients as delivery resolved them."""

    def __init__(self) -> None:
        super().__init__()
        self.recipients: list[Recipient] = []


class GatewayLMTP(LMTP):
    """aiosmtpd's LMTP with the reply discipline LMTP owes: see the module docstring."""

    def __init__(self, handler: DeliveryHandler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._owed = 0
        """Replies the end of the current DATA owes: one per recipient accepted before its 354."""
        self._in_lhlo = False

    def _create_envelope(self) -> DeliveryEnvelope:
        return DeliveryEnvelope()

    @syntax("LHLO hostname")
    async def smtp_LHLO(self, arg: str) -> None:
        self._in_lhlo = True
        try:
            await super().smtp_LHLO(arg)
        finally:
            self._in_lhlo = False

    async def push(self, status: AnyStr) -> None:
        text = status if isinstance(status, str) else status.decode("ascii")
        lines = text.split("\r\n")
        if text.startswith("354"):
            assert self.envelope is not None
            self._owed = len(self.envelope.rcpt_tos)
        elif self._owed:
            if len(lines) == 1:
                lines *= self._owed
            self._owed = 0
        if not self._in_lhlo:
            lines = [with_enhanced_code(line) for line in lines]
        await super().push("\r\n".join(lines))

    async def handle_exception(self, error: Exception) -> str:
        """A failure is temporary for the MTA (it keeps the message); a transaction it breaks is over."""
        assert self.session is not None
        log.error("LMTP session %r failed", self.session.peer, exc_info=error)
        if self._owed:
            self._set_post_data_state()
        return INTERNAL_ERROR


def declared_size(mail_options: list[str]) -> int | None:
    """The ``SIZE=`` parameter of MAIL FROM (RFC 1870), if given."""
    for option in mail_options:
        name, _, value = option.partition("=")
        if name.upper() == "SIZE" and value.isdigit():
            return int(value)
    return None


class DeliveryHandler:
    """aiosmtpd's hooks: LHLO capabilities, then MAIL, RCPT and DATA answered by the delivery service."""

    def __init__(self, delivery: Delivery) -> None:
        self.delivery = delivery

    async def handle_EHLO(
        self, server: GatewayLMTP, session: Session, envelope: DeliveryEnvelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", "250-ENHANCEDSTATUSCODES", responses[-1]]

    async def handle_MAIL(
        self, server: GatewayLMTP, session: Session, envelope: DeliveryEnvelope, address: str, options: list[str]
    ) -> str:
        if not well_formed(address):
            return str(BAD_ADDRESS)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 Sender OK"

    async def handle_RCPT(
        self, server: GatewayLMTP, session: Session, envelope: DeliveryEnvelope, address: str, options: list[str]
    ) -> str:
        found = await self.delivery.resolve(address, declared_size(envelope.mail_options))
        if isinstance(found, Reply):
            return str(found)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        envelope.recipients.append(found)
        return "250 2.1.5 Recipient OK"

    async def handle_DATA(self, server: GatewayLMTP, session: Session, envelope: DeliveryEnvelope) -> str:
        """One reply line per recipient, joined by CRLF, sent once every copy is committed or refused."""
        sender = "" if envelope.mail_from in (None, "<>") else str(envelope.mail_from)  # "<>": a bounce
        assert isinstance(envelope.original_content, bytes)
        replies = await self.delivery.deliver(sender, envelope.recipients, envelope.original_content)
        return "\r\n".join(str(reply) for reply in replies)


class LmtpServer:
    """The listening LMTP socket and the connections it accepted."""

    def __init__(self, server: asyncio.Server, connections: weakref.WeakSet[GatewayLMTP], delivery: Delivery) -> None:
        self._server = server
        self._connections = connections
        self._delivery = delivery

    async def close(self) -> None:
        """Stop listening and drop open connections (a delivery cut short rolls back unanswered, so the MTA, which
        has no reply for it, delivers it again later), then let after-delivery work finish."""
        self._server.close()
        for connection in list(self._connections):
            if connection.transport is not None:
                connection.transport.close()
        await self._server.wait_closed()
        await self._delivery.close()


async def start_lmtp(store: Store, settings: Settings, relay: Relay | None) -> LmtpServer:
    """Listen on ``settings.lmtp_listen`` on the running event loop."""
    assert settings.lmtp_listen is not None, "start_lmtp needs lmtp_listen"
    host, port = parse_listen(settings.lmtp_listen)
    delivery = Delivery(store, relay, settings.max_message_bytes)
    handler = DeliveryHandler(delivery)
    hostname = settings.effective_mail_domain
    loop = asyncio.get_running_loop()
    connections: weakref.WeakSet[GatewayLMTP] = weakref.WeakSet()

    def connection() -> GatewayLMTP:
        protocol = GatewayLMTP(
            handler, data_size_limit=settings.max_message_bytes, hostname=hostname, ident=IDENT, loop=loop
        )
        connections.add(protocol)
        return protocol

    return LmtpServer(await loop.create_server(connection, host, port), connections, delivery)
