"""Authentication plug point: the middleware asks each ``Authenticator`` in turn who the caller is.

HTTP Basic with stored argon2id hashes ships first; OAuth2 bearer tokens plug in later as another
``Authenticator`` without touching the middleware or the protocol code, which only ever sees a ``Principal``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from starlette.requests import HTTPConnection


@dataclass(frozen=True)
class Principal:
    """The authenticated account a request acts as."""

    account_id: int
    name: str


class AuthenticationFailed(Exception):
    """Credentials of this kind were offered and are wrong or malformed: answer 401.

    ``challenge`` is a specific ``WWW-Authenticate`` value (e.g. a bearer ``error="invalid_token"``); ``None``
    lets the middleware offer its authenticators' default challenges.
    """

    def __init__(self, challenge: str | None = None) -> None:
        super().__init__(challenge or "authentication failed")
        self.challenge = challenge


class RateLimited(Exception):
    """Too many recent failures for this account or client: answer 429 without checking credentials."""

    def __init__(self, retry_after_seconds: float) -> None:
        super().__init__(f"retry after {retry_after_seconds:.0f}s")
        self.retry_after_seconds = retry_after_seconds


class Authenticator(Protocol):
    def challenge(self, realm: str) -> str:
        """The ``WWW-Authenticate`` value inviting a client to offer this kind of credentials."""
        ...

    async def authenticate(self, request: HTTPConnection) -> Principal | None:
        """The principal, or ``None`` when no credentials of this kind were offered.

        ``request`` is an HTTP request or a WebSocket handshake: only its headers and client address count.

        Raises AuthenticationFailed for bad credentials and RateLimited when the caller is locked out.
        """
        ...


__all__ = ["AuthenticationFailed", "Authenticator", "Principal", "RateLimited"]
