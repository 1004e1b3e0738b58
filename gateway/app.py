"""The one ASGI application: DAV below ``/dav``, discovery redirects, a landing page; auth in front."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.auth.basic import BasicAuthenticator
from gateway.auth.middleware import AuthMiddleware
from gateway.settings import Settings
from protocols.caldav import setup as caldav
from protocols.carddav import setup as carddav
from protocols.jmap.setup import jmap_routes
from protocols.lmtp import start_lmtp
from protocols.services import directory
from protocols.smtp import Relay
from protocols.webdav.context import DavLimits
from protocols.webdav.endpoint import DavEndpoint
from protocols.webdav.paths import DAV_PREFIX
from protocols.webdav.setup import webdav_registry
from storage import open_store
from storage.api import Store

DAV_ROOT = DAV_PREFIX + "/"
WELL_KNOWN = ("/.well-known/caldav", "/.well-known/carddav")
ROOT_ALIAS_METHODS = frozenset({"PROPFIND", "OPTIONS", "REPORT"})
"""Clients that probe ``/`` with these methods (RFC 6764 §5 fallbacks) are answered as the DAV root."""

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PROPFIND", "PROPPATCH", "REPORT", "MKCOL"]


async def well_known(request: Request) -> Response:
    return RedirectResponse(DAV_ROOT, status_code=301)


async def landing(request: Request) -> Response:
    return HTMLResponse(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Groupware gateway</title></head><body>"
        "<h1>Groupware gateway</h1><p>Point CalDAV, CardDAV and WebDAV clients at "
        f"<code>{DAV_ROOT}</code> (discovery: <code>/.well-known/caldav</code>).</p></body></html>"
    )


class Dispatch:
    """Routes ``/dav`` to the DAV endpoint and everything else to the small Starlette site."""

    def __init__(self, site: ASGIApp, dav: ASGIApp) -> None:
        self.site = site
        self.dav = dav

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (scope["path"] == DAV_PREFIX or scope["path"].startswith(DAV_ROOT)):
            await self.dav(scope, receive, send)
        else:
            await self.site(scope, receive, send)


class RootAlias:
    """Rewrites DAV probes of ``/`` to the DAV root before authentication sees them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/" and scope["method"] in ROOT_ALIAS_METHODS:
            scope = dict(scope, path=DAV_ROOT, raw_path=DAV_ROOT.encode())
        await self.app(scope, receive, send)


class GatewayApp(RootAlias):
    """The assembled application; ``store`` is exposed for the CLI and tests."""

    def __init__(self, app: ASGIApp, store: Store) -> None:
        super().__init__(app)
        self.store = store


def build_app(settings: Settings) -> GatewayApp:
    store = open_store(settings.effective_storage_url)
    relay = Relay.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await store.open()
        await directory.rebuild(store)
        lmtp = await start_lmtp(store, settings, relay) if settings.lmtp_listen else None
        try:
            yield
        finally:
            if lmtp is not None:
                await lmtp.close()
            await store.close()

    limits = DavLimits(settings.max_request_bytes, settings.max_item_bytes, settings.lock_max_timeout_seconds)
    registry = webdav_registry()
    caldav.register(registry, settings.max_item_bytes, settings.default_calendar_name, settings.default_tasklist_name)
    carddav.register(registry, settings.max_item_bytes, settings.default_addressbook_name)
    dav = DavEndpoint(store, registry, limits)
    routes: list[BaseRoute] = [Route(path, well_known, methods=ALL_METHODS) for path in WELL_KNOWN]
    routes.append(Route("/", landing, methods=["GET", "HEAD"]))
    routes += jmap_routes(
        store, settings.base_url, settings.effective_mail_domain, relay, max_message_bytes=settings.max_message_bytes
    )
    site = Starlette(routes=routes, lifespan=lifespan)
    return GatewayApp(AuthMiddleware(Dispatch(site, dav), [BasicAuthenticator(store, settings)]), store)
