"""LMTP delivery from the MTA (RFC 2033). Interface fixed; body in progress."""

from __future__ import annotations

from gateway.settings import Settings
from protocols.smtp import Relay
from storage.api import Store


class LmtpServer:
    async def close(self) -> None:
        return None


async def start_lmtp(store: Store, settings: Settings, relay: Relay | None) -> LmtpServer:
    return LmtpServer()
