"""JMAP ids of stored objects: a letter per type and the store's integer id, so ids never collide across types
and a foreign or malformed id is recognised without a lookup."""

from __future__ import annotations


class IdKind:
    """Renders and parses one type's ids, e.g. ``M12`` for mailbox 12."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def render(self, store_id: int | str) -> str:
        return f"{self.prefix}{store_id}"

    def parse(self, value: object) -> int | None:
        """The store id, or None for anything that is not one of ours."""
        if not isinstance(value, str) or not value.startswith(self.prefix):
            return None
        digits = value[len(self.prefix) :]
        return int(digits) if digits.isdigit() and len(digits) < 19 else None


MAILBOX = IdKind("M")
EMAIL = IdKind("E")
THREAD = IdKind("T")
IDENTITY = IdKind("I")
SUBMISSION = IdKind("S")
