"""Vacation auto-replies: the account's VacationResponse (RFC 8621 §8) answered as RFC 3834 recommends, called by
delivery once a message is stored.

A reply goes when the setting is enabled and the message arrived within [fromDate, toDate). None goes (RFC 3834
§2, and the Sieve vacation rules of RFC 5230 that spell them out) to:

- a null or empty envelope sender (bounces) and the robots MAILER-DAEMON, LISTSERV, majordomo, owner-* and
  *-request;
- messages that are automatic themselves: Auto-Submitted other than ``no`` (RFC 3834 §5), any List-* field
  (List-Id, RFC 2919; the RFC 2369 fields), Precedence bulk, list or junk;
- the account's own addresses;
- messages whose To and Cc name neither the recipient nor another address of the account: Bcc copies and list
  expansions (RFC 3834 §2: absence notices SHOULD NOT be sent unless the recipient is explicitly a recipient);
- a sender answered less than 7 days ago (RFC 3834 §2: not more than once per sender in several days; 7 is the
  Sieve vacation default). Who was answered when is kept in a typed object, ``VacationLog``, which starts afresh
  whenever the setting changes, so that a new absence notice reaches everyone once.

The reply is From the recipient address, To the envelope sender, with the setting's subject or ``Auto: `` and
the original subject (RFC 3834 §3.1.5), In-Reply-To and References (§3.1.3, §3.1.4), ``Auto-Submitted:
auto-replied`` (§5), the setting's textBody and htmlBody (multipart/alternative for both; text made from the HTML
when only that is set; a short default when neither is, as RFC 8621 §8 asks), and goes with the null reverse-path
``MAIL FROM:<>`` (§3.3), so that nothing answers it back.

The log entry is written before the reply is sent: one that fails to go out is not tried again, because RFC 3834
would rather have no reply than too many. Nothing here raises into delivery, which has already succeeded.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from protocols.formats.mime import parse_message
from protocols.formats.mime_build import build_message
from protocols.formats.mime_headers import html_text
from protocols.jmap.types.email import parse_utc_date
from protocols.jmap.types.vacation import DEFAULTS, stored_setting
from protocols.smtp import Relay, RelayUnavailable, is_mailbox
from storage.api import Store, Transaction

log = logging.getLogger(__name__)

PERIOD_SECONDS = 7 * 24 * 3600
"""At most one reply per sender in this time."""
LOG_TYPE = "VacationLog"
DEFAULT_BODY = "I am away at the moment and will read your message when I am back."
_ROBOTS = frozenset({"mailer-daemon", "listserv", "majordomo"})
_BULK = frozenset({"bulk", "list", "junk"})


async def after_delivery(
    store: Store, relay: Relay | None, account_id: int, message: bytes, envelope_sender: str | None, recipient: str
) -> None:
    """Answer ``message``, just stored for ``account_id`` as ``recipient``, when its vacation response says so."""
    try:
        await _respond(store, relay, account_id, message, (envelope_sender or "").strip().strip("<>"), recipient)
    except RelayUnavailable as exc:
        log.warning("vacation reply for account %s not sent: %s", account_id, exc.description)
    except Exception:
        log.exception("vacation reply for account %s failed", account_id)


async def _respond(
    store: Store, relay: Relay | None, account_id: int, message: bytes, sender: str, recipient: str
) -> None:
    if relay is None or not is_mailbox(sender) or _is_robot(sender):
        return
    now = time.time()
    async with store.read() as tx:
        stored = await stored_setting(tx, account_id)
        setting = {**DEFAULTS, **(stored.data if stored else {})}
        if stored is None or not _active(setting, now):
            return
        own = {address.address.lower() for address in await tx.get_addresses(account_id)} | {recipient.lower()}
        account = await tx.get_account_by_id(account_id)
    parsed = parse_message(message)
    headers = [
        (field["name"].lower(), field["value"]) for field in parsed.properties(["headers"], blob_id="")["headers"]
    ]
    named = {address["email"].lower() for key in ("to", "cc") for address in parsed.summary[key] or ()}
    if sender.lower() in own or not named & own or _is_automatic(headers):
        return
    async with store.write() as tx:
        if not await _claim(tx, account_id, stored.modseq, sender.lower(), now):
            return
    name = account.display_name if account else None
    await relay.send("", [sender], _reply(setting, parsed.summary, sender, recipient, name, now))


def _is_robot(sender: str) -> bool:
    local = sender.rpartition("@")[0].strip('"').lower()
    return local in _ROBOTS or local.startswith("owner-") or local.endswith("-request")


def _is_automatic(headers: list[tuple[str, str]]) -> bool:
    for name, value in headers:
        keyword = value.split(";")[0].split("(")[0].strip().lower()
        if name.startswith("list-") or (name == "precedence" and keyword in _BULK):
            return True
        if name == "auto-submitted" and keyword != "no":
            return True
    return False


def _active(setting: dict[str, Any], now: float) -> bool:
    start, end = parse_utc_date(setting["fromDate"]), parse_utc_date(setting["toDate"])
    return setting["isEnabled"] is True and (start is None or start <= now) and (end is None or now < end)


async def _claim(tx: Transaction, account_id: int, version: int, sender: str, now: float) -> bool:
    """Record a reply to ``sender`` unless one went within the period under this version of the setting."""
    found = await tx.list_objects(account_id, LOG_TYPE)
    data = found[0].data if found else {}
    answered: dict[str, float] = dict(data["sent"]) if data.get("setting") == version else {}
    last = answered.get(sender)
    if last is not None and now - last < PERIOD_SECONDS:
        return False
    answered = {address: moment for address, moment in answered.items() if now - moment < PERIOD_SECONDS}
    answered[sender] = now
    record = {"setting": version, "sent": answered}
    if found:
        await tx.update_object(account_id, LOG_TYPE, found[0].id, record)
    else:
        await tx.create_object(account_id, LOG_TYPE, record)
    return True


def _message_ids(values: Any) -> list[str]:
    """The ids that can be written back into In-Reply-To/References (printable ASCII, no white space or <>)."""
    return [v for v in values or () if v.isascii() and v.isprintable() and not set(v) & set(" <>")]


def _reply(
    setting: dict[str, Any], original: dict[str, Any], sender: str, recipient: str, name: str | None, now: float
) -> bytes:
    text, html = setting["textBody"], setting["htmlBody"]
    if text is None:
        text = DEFAULT_BODY if html is None else html_text(html).strip()
    email: dict[str, Any] = {
        "from": [{"name": name or None, "email": recipient}],
        "to": [{"name": None, "email": sender}],
        "subject": setting["subject"] or f"Auto: {original['subject'] or ''}".strip(),
        "header:Auto-Submitted:asText": "auto-replied",
        "bodyValues": {"t": {"value": text}, **({"h": {"value": html}} if html is not None else {})},
        "textBody": [{"partId": "t", "type": "text/plain"}],
    }
    if html is not None:
        email["htmlBody"] = [{"partId": "h", "type": "text/html"}]
    replied_to = _message_ids(original["messageId"])
    if replied_to:
        email["inReplyTo"] = replied_to
        email["references"] = [*_message_ids(original["references"]), *replied_to]
    domain = recipient.rpartition("@")[2] or "localhost"
    return build_message(email, resolve_blob=lambda blob_id: None, now=now, message_id_domain=domain)
