"""Helpers shared by the HTTP tests: unique paths, PROPFIND/multistatus parsing and raw-path requests."""

from __future__ import annotations

import base64
import http.client
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
from lxml import etree

DAV_NS = "DAV:"
OK_STATUS = "HTTP/1.1 200 OK"


def dav(local: str) -> str:
    """Clark name of a DAV: element."""
    return f"{{{DAV_NS}}}{local}"


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def files(user: str, *parts: str) -> str:
    """A path in ``user``'s file area; parts are joined with "/" (give a trailing "" for a collection)."""
    return "/".join([f"/dav/files/{user}", *parts])


def mkcol(client: httpx.Client, path: str) -> str:
    response = client.request("MKCOL", path)
    assert response.status_code == 201, (path, response.status_code, response.text)
    return path


def new_folder(client: httpx.Client, user: str = "alice") -> str:
    """A fresh, empty collection of this test's own in ``user``'s file area; its path ends in "/"."""
    return mkcol(client, files(user, unique("dir"), ""))


def put(client: httpx.Client, path: str, data: bytes | str = b"data", content_type: str = "text/plain") -> str:
    """Store ``data`` and return the ETag the server gave."""
    response = client.put(path, content=data, headers={"Content-Type": content_type})
    assert response.status_code in (201, 204), (path, response.status_code, response.text)
    return response.headers["etag"]


def propfind_xml(*names: str) -> str:
    """A PROPFIND body for Clark names (``{ns}local``), each namespace declared where it is used."""
    inner = "".join(f'<x:{n.split("}")[1]} xmlns:x="{n[1:].split("}")[0]}"/>' for n in names)
    return f'<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop>{inner}</D:prop></D:propfind>'


@dataclass
class PropStat:
    status: str
    props: dict[str, etree._Element] = field(default_factory=dict)


@dataclass
class DavResponse:
    href: str
    propstats: list[PropStat] = field(default_factory=list)
    status: str | None = None

    def prop(self, name: str) -> etree._Element | None:
        """The element of a property reported with 200, or None."""
        for propstat in self.propstats:
            if propstat.status == OK_STATUS and name in propstat.props:
                return propstat.props[name]
        return None

    def status_of(self, name: str) -> str | None:
        for propstat in self.propstats:
            if name in propstat.props:
                return propstat.status
        return None

    def text(self, name: str) -> str | None:
        element = self.prop(name)
        return None if element is None else "".join(element.itertext())

    def href_in(self, name: str) -> str | None:
        element = self.prop(name)
        found = None if element is None else element.find(dav("href"))
        return None if found is None else (found.text or "").strip()


def multistatus(response: httpx.Response) -> dict[str, DavResponse]:
    """Parse a 207 body into ``{href path: DavResponse}`` (hrefs reduced to their path)."""
    assert response.status_code == 207, (response.status_code, response.text)
    root = etree.fromstring(response.content)
    assert root.tag == dav("multistatus"), root.tag
    result: dict[str, DavResponse] = {}
    for node in root.findall(dav("response")):
        hrefs = node.findall(dav("href"))
        assert len(hrefs) == 1, etree.tostring(node)
        href = urlsplit((hrefs[0].text or "").strip()).path
        parsed = DavResponse(href)
        status = node.find(dav("status"))
        parsed.status = status.text.strip() if status is not None and status.text else None
        for propstat in node.findall(dav("propstat")):
            status_text = (propstat.findtext(dav("status")) or "").strip()
            prop = propstat.find(dav("prop"))
            children = {child.tag: child for child in (prop if prop is not None else [])}
            parsed.propstats.append(PropStat(status_text, children))
        result[href] = parsed
    return result


def propfind(client: httpx.Client, path: str, *names: str, depth: str = "0") -> dict[str, DavResponse]:
    body = propfind_xml(*names) if names else ""
    response = client.request(
        "PROPFIND", path, content=body, headers={"Depth": depth, "Content-Type": "application/xml"}
    )
    return multistatus(response)


def one(client: httpx.Client, path: str, *names: str) -> DavResponse:
    """PROPFIND Depth 0 of ``path`` and return its single response."""
    responses = propfind(client, path, *names)
    assert list(responses) == [path], (path, list(responses))
    return responses[path]


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def raw_request(
    base_url: str,
    method: str,
    raw_path: str,
    *,
    auth: tuple[str, str] | None = None,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    timeout: float = 10,
) -> RawResponse:
    """Send ``raw_path`` to the server byte for byte (no client-side normalisation of ``..`` or ``//``)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.putrequest(method, raw_path, skip_accept_encoding=True)
        all_headers = dict(headers or {})
        if auth is not None:
            all_headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
        all_headers.setdefault("Content-Length", str(len(body)))
        for name, value in all_headers.items():
            connection.putheader(name, value)
        connection.endheaders(body or None)
        reply = connection.getresponse()
        data = reply.read()
        return RawResponse(reply.status, {k.lower(): v for k, v in reply.getheaders()}, data)
    finally:
        connection.close()
