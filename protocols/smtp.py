"""Outgoing mail through the organisation's MTA (SMTP submission to a relay). Interface fixed; body in progress."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.settings import Settings


@dataclass(frozen=True, slots=True)
class RelayReply:
    code: int
    message: str


@dataclass(frozen=True, slots=True)
class RelayResult:
    replies: dict[str, RelayReply]
    """The relay's reply to each RCPT TO, by recipient address."""


class RelayUnavailable(Exception):
    """The relay could not be reached or refused the whole transaction (temporary or permanent)."""


class Relay:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @classmethod
    def from_settings(cls, settings: Settings) -> Relay | None:
        return cls(settings) if settings.smtp_relay else None

    async def send(self, mail_from: str, rcpt_to: Sequence[str], message: bytes) -> RelayResult:
        raise RelayUnavailable("not yet built")
