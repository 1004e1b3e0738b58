"""Assemble the JMAP endpoint: capabilities, the type modules' methods, and the HTTP routes."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route, WebSocketRoute

from protocols.jmap import blobs
from protocols.jmap.blobs import BlobEndpoint
from protocols.jmap.context import JmapLimits, ServerInfo
from protocols.jmap.endpoint import JmapEndpoint, well_known_jmap
from protocols.jmap.push import EventSourceEndpoint
from protocols.jmap.registry import CORE, MAIL, SUBMISSION, VACATION, WEBSOCKET, Capability, JmapRegistry
from protocols.jmap.types import (
    core,
    email,
    email_import,
    email_query,
    email_set,
    email_submission,
    identity,
    mailbox,
    search_snippet,
    thread,
    vacation,
)
from protocols.jmap.websocket import JmapWebSocket
from protocols.smtp import Relay
from storage.api import Store
from storage.mail import EMAIL_SORT_PROPERTIES

MAX_ATTACHMENTS_BYTES = 50 * 1024 * 1024


def jmap_registry(limits: JmapLimits) -> JmapRegistry:
    registry = JmapRegistry()
    registry.add_capability(Capability(CORE, limits.session_value()))
    registry.add_capability(
        Capability(
            MAIL,
            {},
            {
                "maxMailboxesPerEmail": None,
                "maxMailboxDepth": None,
                "maxSizeMailboxName": 255,
                "maxSizeAttachmentsPerEmail": MAX_ATTACHMENTS_BYTES,
                "emailQuerySortOptions": sorted(EMAIL_SORT_PROPERTIES),
                "mayCreateTopLevelMailbox": True,
            },
        )
    )
    registry.add_capability(Capability(SUBMISSION, {}, {"maxDelayedSend": 0, "submissionExtensions": {}}))
    registry.add_capability(Capability(VACATION, {}, {}))
    registry.add_capability(Capability(WEBSOCKET, {"supportsPush": True}))  # the session adds the url
    for module in (core, blobs, mailbox, thread, email, email_query, email_set, email_import, search_snippet):
        module.register(registry)
    identity.register(registry)
    email_submission.register(registry)
    vacation.register(registry)
    return registry


def jmap_routes(
    store: Store,
    base_url: str | None,
    mail_domain: str,
    relay: Relay | None,
    max_message_bytes: int,
    limits: JmapLimits | None = None,
) -> list[BaseRoute]:
    limits = limits or JmapLimits()
    server = ServerInfo(jmap_registry(limits), limits, base_url or "", mail_domain, max_message_bytes, relay)
    endpoint = JmapEndpoint(store, server, base_url)
    blob_endpoint = BlobEndpoint(store, limits.max_size_upload, limits.max_concurrent_upload)
    return [
        Route("/.well-known/jmap", well_known_jmap, methods=["GET"]),
        *endpoint.routes(),
        Route("/jmap/upload/{account_id}/", blob_endpoint.upload, methods=["POST"]),
        Route("/jmap/download/{account_id}/{blob_id}/{name}", blob_endpoint.download, methods=["GET"]),
        Route("/jmap/eventsource/", EventSourceEndpoint(store, server).stream, methods=["GET"]),
        WebSocketRoute("/jmap/ws", JmapWebSocket(endpoint).serve),
    ]
