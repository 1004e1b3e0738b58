"""Password hashing with argon2id; verification runs in a worker thread because it is deliberately slow."""

from __future__ import annotations

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with argon2-cffi's RFC 9106 low-memory defaults


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches; a corrupt hash counts as a mismatch rather than an error."""
    return await asyncio.to_thread(_verify, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's, so it should be replaced on login."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


@cache
def _dummy_hash() -> str:
    return hash_password("dummy password for unknown accounts")


async def burn_verify(password: str) -> None:
    """Spend the time of a real verification, so an unknown account name is not revealed by a fast reply."""
    await verify_password(_dummy_hash(), password)
