"""What the DAV endpoint knows how to do, registered once at start-up.

OPTIONS (the DAV and Allow headers), supported-report-set and allprop are all derived from these tables,
so what is advertised is exactly what is registered. CalDAV and CardDAV add their entries beside WebDAV's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lxml import etree
from starlette.responses import Response

from gateway.auth import Principal
from protocols.webdav.requests import PropertyUpdate
from protocols.webdav.resources import Resource
from protocols.webdav.xml import Raw
from storage.api import Collection, ItemWrite, Store

if TYPE_CHECKING:
    from protocols.webdav.context import DavContext
    from protocols.webdav.propcontext import PropContext

PropValue = str | Raw
"""Text (escaped on output) or already-serialised child XML."""

PropertyGetter = Callable[["PropContext", Resource], PropValue | None]
MethodHandler = Callable[["DavContext", Resource], Awaitable[Response]]
FirstLoginHook = Callable[[Store, Principal], Awaitable[None]]
ItemPreparer = Callable[["DavContext", Collection, ItemWrite], Awaitable[ItemWrite]]
"""Validates a body bound for a collection of some kind and adds what the store indexes (uid, ...)."""
ReportRunner = Callable[["DavContext", Resource, etree._Element], Awaitable[Response]]
LocationCheck = Callable[["DavContext", str], None]
"""Raises ``DavError`` when a collection of some kind may not be made at a store path (MKCOL, COPY, MOVE)."""


@dataclass(frozen=True, slots=True)
class LiveProperty:
    name: str
    """Clark name."""
    applies_to: Callable[[Resource], bool]
    get: PropertyGetter
    """The value for an applicable resource, or None when it has none (answered 404)."""
    in_allprop: bool = False
    protected: bool = True
    needs_body: bool = False
    """The value is computed from the stored bytes, which reports then fetch (in batches) for it."""
    settable_on_create: bool = False
    """Protected afterwards, but a client may give it when creating the collection (MKCALENDAR, MKCOL)."""
    validate: Callable[[PropertyUpdate], None] | None = None
    """For a property clients may set: raises ``PropertyRejected`` for a value the server cannot accept."""


@dataclass(frozen=True, slots=True)
class MethodDef:
    name: str
    handler: MethodHandler
    allowed_on: Callable[[Resource], bool]


@dataclass(frozen=True, slots=True)
class ReportDef:
    name: str
    applies_to: Callable[[Resource], bool]
    run: ReportRunner


@dataclass
class DavRegistry:
    methods: dict[str, MethodDef] = field(default_factory=dict)
    properties: dict[str, LiveProperty] = field(default_factory=dict)
    reports: dict[str, ReportDef] = field(default_factory=dict)
    compliance: list[str] = field(default_factory=list)
    collection_types: dict[str, frozenset[str]] = field(default_factory=dict)
    """Collection kind -> extra ``resourcetype`` children, e.g. ``calendar`` -> ``{C:calendar}``."""
    uid_conflict_conditions: dict[str, str] = field(default_factory=dict)
    """Collection kind -> the precondition element answering a UID clash (e.g. CalDAV ``no-uid-conflict``)."""
    first_login_hooks: list[FirstLoginHook] = field(default_factory=list)
    """Run once per account and process before its first DAV request (e.g. default calendars)."""
    read_only_shared: set[str] = field(default_factory=set)
    """Collection paths every user may read and nobody may write through DAV (the directory)."""
    item_preparers: dict[str, ItemPreparer] = field(default_factory=dict)
    """Collection kind -> what checks and indexes a body stored there; plain collections take any bytes."""
    location_checks: dict[str, LocationCheck] = field(default_factory=dict)
    """Collection kind -> where it may be made or copied to, e.g. calendars only in the calendar home."""

    def add_method(self, name: str, handler: MethodHandler, allowed_on: Callable[[Resource], bool]) -> None:
        self.methods[name] = MethodDef(name, handler, allowed_on)

    def add_property(self, prop: LiveProperty) -> None:
        self.properties[prop.name] = prop

    def add_report(self, report: ReportDef) -> None:
        self.reports[report.name] = report

    def add_compliance(self, *classes: str) -> None:
        self.compliance.extend(c for c in classes if c not in self.compliance)

    async def prepare_item(self, ctx: DavContext, collection: Collection, write: ItemWrite) -> ItemWrite:
        preparer = self.item_preparers.get(collection.kind)
        return await preparer(ctx, collection, write) if preparer else write

    def allowed_methods(self, resource: Resource) -> list[str]:
        return [m.name for m in self.methods.values() if m.allowed_on(resource)]

    def reports_for(self, resource: Resource) -> list[str]:
        return [r.name for r in self.reports.values() if r.applies_to(resource)]
