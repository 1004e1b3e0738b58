"""The JMAP session resource (RFC 8620 §2): what the server offers and where, for the caller."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from protocols.jmap.context import ServerInfo, account_id_for
from protocols.jmap.registry import WEBSOCKET
from storage.api import Account


def session_object(server: ServerInfo, account: Account, base_url: str) -> dict[str, Any]:
    """The session for ``account``; ``state`` is a hash of the rest, so it changes exactly when the session does."""
    registry = server.registry
    account_id = account_id_for(account.id)
    account_capabilities = {
        urn: capability.account_value
        for urn, capability in registry.capabilities.items()
        if capability.account_value is not None
    }
    capabilities = {urn: capability.session_value for urn, capability in registry.capabilities.items()}
    if WEBSOCKET in capabilities:  # RFC 8887 §3: its URL follows the base URL the client used
        capabilities[WEBSOCKET] = {**capabilities[WEBSOCKET], "url": "ws" + base_url.removeprefix("http") + "/jmap/ws"}
    session: dict[str, Any] = {
        "capabilities": capabilities,
        "accounts": {
            account_id: {
                "name": account.name,
                "isPersonal": True,
                "isReadOnly": False,
                "accountCapabilities": account_capabilities,
            }
        },
        "primaryAccounts": {urn: account_id for urn in account_capabilities},
        "username": account.name,
        "apiUrl": f"{base_url}/jmap/api/",
        "downloadUrl": f"{base_url}/jmap/download/{{accountId}}/{{blobId}}/{{name}}?type={{type}}",
        "uploadUrl": f"{base_url}/jmap/upload/{{accountId}}/",
        "eventSourceUrl": f"{base_url}/jmap/eventsource/?types={{types}}&closeafter={{closeafter}}&ping={{ping}}",
    }
    session["state"] = hashlib.blake2b(orjson.dumps(session, option=orjson.OPT_SORT_KEYS), digest_size=8).hexdigest()
    return session
