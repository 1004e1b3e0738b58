"""Default collections made in a home at an account's first login (a calendar, a task list, an address book).

A marker property on the home records that the defaults were made, so a user who deletes them does not get
them back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway.auth import Principal
from protocols.webdav.registry import FirstLoginHook
from protocols.webdav.xml import PRIVATE, clark
from storage.api import Store

DEFAULTS_MADE = clark(PRIVATE, "defaults-created")
MARKER = f'<g:defaults-created xmlns:g="{PRIVATE}">1</g:defaults-created>'


@dataclass(frozen=True, slots=True)
class DefaultCollection:
    slug: str
    kind: str
    properties: Mapping[str, str]


def provisioner(namespace: str, defaults: tuple[DefaultCollection, ...]) -> FirstLoginHook:
    """A first-login hook creating ``defaults`` in the user's home of ``namespace`` once, ever."""

    async def create_defaults(store: Store, principal: Principal) -> None:
        home_path = f"{namespace}/{principal.name}/"
        async with store.read() as tx:
            home = await tx.get_collection(home_path)
        if home is None or DEFAULTS_MADE in home.properties:
            return
        async with store.write() as tx:
            home = await tx.get_collection(home_path)
            if home is None or DEFAULTS_MADE in home.properties:
                return
            for default in defaults:
                path = f"{home_path}{default.slug}/"
                if await tx.get_collection(path) is None:
                    await tx.create_collection(home.account_id, path, default.kind, default.properties)
            await tx.update_collection_properties(home.id, {DEFAULTS_MADE: MARKER}, ())

    return create_defaults
