"""EmailSubmission (RFC 8621 §7): sending a stored email through the organisation's relay; get, changes, query,
queryChanges and set.

Sending happens within EmailSubmission/set (``maxDelayedSend`` is 0): a created submission has been handed to the
relay, so ``sendAt`` is its creation time and ``undoStatus`` is ``final`` at once (cancelling: ``cannotUnsend``).
``deliveryStatus`` keeps the relay's reply to each RCPT TO: ``queued`` on 2xx (final delivery is not known here),
``no`` on 5xx, else ``unknown``; ``displayed`` stays ``unknown``, dsnBlobIds/mdnBlobIds empty (no DSN/MDN handling).

Choices where the RFC leaves room, and why:

- Envelope: when none is given, mailFrom is the identity's email. The RFC takes the Sender/From address but falls
  back to the identity's email when the identity does not allow that address; an identity allows exactly its own
  address, so it is the identity's email either way. rcptTo is To, Cc and Bcc, deduplicated.
- Who may send what, checked at each sending (addresses change): every From and Sender address (``forbiddenFrom``)
  and the envelope's mailFrom (``forbiddenMailFrom``) must be an address of the account. Envelope parameters are
  refused: ``submissionExtensions`` is empty, so no SMTP extension could carry them.
- Relay trouble (none configured, unreachable, refusing the transaction) is ``forbiddenToSend`` with a
  description: the RFC's error for "cannot send at all right now", shown to the user (RFC 8620 has no temporary
  per-object error); the relay refusing the sender address (550/553) is ``forbiddenMailFrom``. When it refuses
  every recipient nothing was sent and the creation fails: ``invalidRecipients`` if every refusal is permanent,
  else ``forbiddenToSend``. Failures run no onSuccess action, so the draft stays a draft.
- Bcc and Resent-Bcc fields are removed from the octets sent (§7.5 MUST for Bcc); the stored message keeps them.
- Filing the sent copy: for a created submission that no ``onSuccessUpdateEmail``/``onSuccessDestroyEmail`` entry
  names, the server files a draft itself, in the transaction that records the submission: out of Drafts, into
  Sent, without ``$draft``. Those arguments, when given, become one implicit Email/set after this call (§7.5).
"""

from __future__ import annotations

import functools
import logging
import re
import time
from typing import Any

from protocols.formats.mime import parse_message
from protocols.jmap import generic
from protocols.jmap.context import CallContext
from protocols.jmap.errors import MethodError, SetError, invalid_arguments, invalid_properties
from protocols.jmap.ids import EMAIL, IDENTITY, SUBMISSION, THREAD
from protocols.jmap.registry import SUBMISSION as SUBMISSION_CAPABILITY
from protocols.jmap.registry import JmapRegistry
from protocols.jmap.types import identity
from protocols.jmap.types.email import parse_utc_date, utc_date
from protocols.smtp import RelayResult, RelayUnavailable, is_mailbox
from storage.api import Transaction
from storage.mail import EmailUpdate, StoredObject

log = logging.getLogger(__name__)

TYPE = "EmailSubmission"
PROPERTIES = (
    "id", "identityId", "emailId", "threadId", "envelope", "sendAt", "undoStatus", "deliveryStatus", "dsnBlobIds",
    "mdnBlobIds",
)  # fmt: skip
SETTABLE = ("identityId", "emailId", "envelope")


def to_json(stored: StoredObject) -> dict[str, Any]:
    return {**stored.data, "id": SUBMISSION.render(stored.id)}


async def submission_get(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    return await generic.stored_objects_get(ctx, arguments, TYPE, SUBMISSION, to_json, PROPERTIES)


async def submission_changes(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    return await generic.standard_changes(ctx, arguments, TYPE, SUBMISSION.render)


# --- query ---------------------------------------------------------------------------------------------------

ID_LISTS = {"identityIds": "identityId", "emailIds": "emailId", "threadIds": "threadId"}
SORTS = {"emailId": "emailId", "threadId": "threadId", "sentAt": "sendAt", "sendAt": "sendAt"}
"""RFC 8621 §7.3 names the sort ``sentAt`` though the property is ``sendAt``; both are accepted."""


def _check_condition(condition: dict[str, Any]) -> None:
    for key, value in condition.items():
        if key in ID_LISTS:
            generic.optional_id_list(condition, key)
        elif key == "undoStatus":
            if not isinstance(value, str):
                raise invalid_arguments("undoStatus must be a string.")
        elif key in ("before", "after"):
            if parse_utc_date(value) is None:
                raise invalid_arguments(f"{key} must be a UTCDate.")
        else:
            raise MethodError("unsupportedFilter", f"Unknown filter condition {key!r}.")


def _condition_matches(submission: dict[str, Any], condition: dict[str, Any]) -> bool:
    sent = _moment(submission["sendAt"])
    for key, value in condition.items():
        if key in ID_LISTS and value is not None and submission[ID_LISTS[key]] not in value:
            return False
        if key == "undoStatus" and submission["undoStatus"] != value:
            return False
        if (key == "before" and sent >= _moment(value)) or (key == "after" and sent < _moment(value)):
            return False
    return True


def _moment(value: str) -> float:
    """A UTCDate already checked by _check_condition (or written by this module)."""
    return parse_utc_date(value) or 0.0


async def _query_ids(ctx: CallContext, account_id: int, arguments: dict[str, Any]) -> list[str]:
    """Every matching id in order: submissions are few per account, so filtering and sorting happen here."""
    condition = arguments.get("filter")
    if condition is not None:
        generic.check_filter(condition, _check_condition)
    sort = arguments.get("sort") or []
    if not isinstance(sort, list) or not all(isinstance(item, dict) and item.get("property") in SORTS for item in sort):
        raise MethodError("unsupportedSort", f"Sort by one of {', '.join(SORTS)}.")
    async with ctx.store.read() as tx:
        ordered = [to_json(obj) for obj in await tx.list_objects(account_id, TYPE)]  # oldest first: the tie-breaker
    for comparator in reversed(sort):  # stable sorts, last comparator first
        prop = SORTS[comparator["property"]]
        ordered.sort(key=lambda submission: submission[prop], reverse=not comparator.get("isAscending", True))
    return [
        submission["id"]
        for submission in ordered
        if condition is None or generic.filter_matches(submission, condition, _condition_matches)
    ]


async def submission_query(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    return await generic.query_in_memory(ctx, arguments, TYPE, functools.partial(_query_ids, ctx))


async def submission_query_changes(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    return await generic.query_changes_in_memory(
        ctx, arguments, TYPE, functools.partial(_query_ids, ctx), SUBMISSION.render
    )


# --- what to send ----------------------------------------------------------------------------------------------

_BLIND = re.compile(rb"(?:resent-)?bcc[ \t]*:", re.IGNORECASE)
_HEADER_END = re.compile(rb"\n\r?\n")


def without_bcc(raw: bytes) -> bytes:
    """The message without its Bcc and Resent-Bcc header fields (folded lines included); the rest byte for byte."""
    end = _HEADER_END.search(raw)
    split = end.start() + 1 if end else len(raw)
    kept: list[bytes] = []
    blind = False
    for line in raw[:split].splitlines(keepends=True):
        if line[:1] not in (b" ", b"\t"):
            blind = _BLIND.match(line) is not None
        if not blind:
            kept.append(line)
    return b"".join(kept) + raw[split:]


def _deduplicated(addresses: list[str]) -> list[str]:
    """First spelling of each address, compared without case."""
    seen: dict[str, str] = {}
    for address in addresses:
        seen.setdefault(address.lower(), address)
    return list(seen.values())


def _ids(store_id: int | None) -> list[int]:
    return [] if store_id is None else [store_id]


def _envelope_address(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("email"), str) or set(value) - {"email", "parameters"}:
        raise invalid_properties("envelope", description="An envelope Address is {email, parameters}.")
    if value.get("parameters"):
        raise invalid_properties("envelope", description="No SMTP parameters are supported (submissionExtensions).")
    return {"email": value["email"], "parameters": None}


def _given_envelope(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) != {"mailFrom", "rcptTo"} or not isinstance(value["rcptTo"], list):
        raise invalid_properties("envelope", description="An Envelope is {mailFrom: Address, rcptTo: Address[]}.")
    return {"mailFrom": _envelope_address(value["mailFrom"]), "rcptTo": list(map(_envelope_address, value["rcptTo"]))}


def _referenced(ctx: CallContext, obj: dict[str, Any], key: str) -> str:
    """The id in ``identityId``/``emailId``, a ``#creationId`` resolved to what this request created."""
    value = obj.get(key)
    if not isinstance(value, str):
        raise invalid_properties(key, description=f"{key} must be an id.")
    try:
        return ctx.resolve_id(value)
    except LookupError:
        raise invalid_properties(key, description=f"Nothing was created for {value!r}.") from None


async def _own_addresses(ctx: CallContext, tx: Transaction, account_id: int) -> set[str]:
    """The account's addresses; one without any sends as ``name@mail domain``, the identity it was given."""
    own = await identity.own_addresses(tx, account_id)
    if not own:
        account = await tx.get_account_by_id(account_id)
        own = {f"{account.name if account else account_id}@{ctx.server.mail_domain}".lower()}
    return own


async def _outgoing(ctx: CallContext, account_id: int, obj: dict[str, Any]) -> dict[str, Any]:
    """Check a create object against the stored identity and email; the record to keep, with ``raw`` (the
    octets to send) and ``storeEmailId`` added. Raises SetError."""
    identity_id, email_id = _referenced(ctx, obj, "identityId"), _referenced(ctx, obj, "emailId")
    async with ctx.store.read() as tx:
        identities = await tx.get_objects(account_id, identity.TYPE, _ids(IDENTITY.parse(identity_id)))
        if not identities:
            raise invalid_properties("identityId", description="No such identity.")
        emails = await tx.get_emails(account_id, _ids(EMAIL.parse(email_id)))
        raw = await tx.read_blob(account_id, emails[0].blob_id) if emails else None
        if raw is None:
            raise invalid_properties("emailId", description="No such email.")
        own = await _own_addresses(ctx, tx, account_id)
    fields = ("From", "Sender", "To", "Cc", "Bcc")
    found = parse_message(raw).properties([f"header:{name}:asAddresses:all" for name in fields], blob_id="")
    headers = {name: [a["email"] for v in found[f"header:{name}:asAddresses:all"] for a in v] for name in fields}
    if not headers["From"]:
        raise SetError("invalidEmail", "The email has no From address.", properties=["from"])
    foreign = [address for address in headers["From"] + headers["Sender"] if address.lower() not in own]
    if foreign:
        raise SetError("forbiddenFrom", f"This account may not send as {', '.join(foreign)}.")
    envelope: dict[str, Any]
    if obj.get("envelope") is None:
        recipients = [{"email": a, "parameters": None} for a in headers["To"] + headers["Cc"] + headers["Bcc"]]
        envelope = {"mailFrom": {"email": identities[0].data["email"], "parameters": None}, "rcptTo": recipients}
    else:
        envelope = _given_envelope(obj["envelope"])
    if envelope["mailFrom"]["email"].lower() not in own:
        raise SetError("forbiddenMailFrom", f"This account may not send as {envelope['mailFrom']['email']}.")
    rcpt_to = _deduplicated([recipient["email"] for recipient in envelope["rcptTo"]])
    if not rcpt_to:
        raise SetError("noRecipients", "The envelope has no recipients.")
    invalid = [address for address in rcpt_to if not is_mailbox(address)]
    if invalid:
        raise SetError("invalidRecipients", "These are no addresses mail can be sent to.", invalidRecipients=invalid)
    sent = without_bcc(raw)
    if len(sent) > ctx.server.max_message_bytes:
        raise SetError("tooLarge", "The email is too large to send.", maxSize=ctx.server.max_message_bytes)
    return {
        "identityId": identity_id,
        "emailId": email_id,
        "threadId": THREAD.render(emails[0].thread_id),
        "envelope": {**envelope, "rcptTo": [{"email": address, "parameters": None} for address in rcpt_to]},
        "raw": sent,
        "storeEmailId": emails[0].id,
    }


# --- sending and set -----------------------------------------------------------------------------------------


def _relay_error(exc: RelayUnavailable) -> SetError:
    log.warning("the relay refused or failed a submission: %s", exc.description)
    said = f" The relay said: {exc.reply.text}" if exc.reply is not None else ""
    if exc.stage == "mail" and exc.reply is not None and exc.reply.code in (550, 553):
        return SetError("forbiddenMailFrom", f"The mail relay refused the sender.{said}")
    return SetError("forbiddenToSend", f"The mail relay is unavailable; nothing was sent. Try again later.{said}")


def _nobody_accepted(result: RelayResult) -> SetError:
    said = "; ".join(f"{address}: {reply.text}" for address, reply in result.replies.items())
    if all(reply.code >= 500 for reply in result.replies.values()):
        return SetError(
            "invalidRecipients", f"The relay refused every recipient ({said}).", invalidRecipients=[*result.replies]
        )
    return SetError("forbiddenToSend", f"The relay accepted no recipient now ({said}); nothing was sent.")


def _delivery_status(result: RelayResult) -> dict[str, Any]:
    return {
        address: {
            "smtpReply": reply.text,
            "delivered": "queued" if reply.accepted else "no" if reply.code >= 500 else "unknown",
            "displayed": "unknown",
        }
        for address, reply in result.replies.items()
    }


async def _file_as_sent(tx: Transaction, account_id: int, email_id: int) -> None:
    """A draft that was sent leaves Drafts for Sent and loses ``$draft`` (when there is no Sent, it stays put)."""
    emails = await tx.get_emails(account_id, [email_id])
    if not emails or "$draft" not in emails[0].keywords:
        return
    mailboxes = set(emails[0].mailbox_ids)
    sent, drafts = await tx.mailbox_by_role(account_id, "sent"), await tx.mailbox_by_role(account_id, "drafts")
    if sent is not None:
        mailboxes = {box for box in mailboxes if drafts is None or box != drafts.id} | {sent.id}
    await tx.update_email(
        account_id, email_id, EmailUpdate(keywords=emails[0].keywords - {"$draft"}, mailbox_ids=frozenset(mailboxes))
    )


def set_handlers(ctx: CallContext, named: set[str], email_of: dict[str, str]) -> generic.SetHandlers:
    """``named``: submission references the onSuccess arguments use; ``email_of`` collects the email id of every
    submission that was created (as ``#creationId``), updated or destroyed."""

    async def create(account_id: int, creation_id: str, obj: dict[str, Any]) -> dict[str, Any]:
        wrong = [
            key for key, value in obj.items() if key not in SETTABLE and (key not in PROPERTIES or value is not None)
        ]
        if wrong:
            raise invalid_properties(*wrong, description="These properties are server-set or unknown.")
        relay = ctx.server.relay
        if relay is None:
            raise SetError("forbiddenToSend", "This server has no mail relay configured, so it cannot send mail.")
        record = await _outgoing(ctx, account_id, obj)
        raw, store_email_id = record.pop("raw"), record.pop("storeEmailId")
        record["sendAt"] = utc_date(time.time())
        rcpt_to = [recipient["email"] for recipient in record["envelope"]["rcptTo"]]
        try:
            result = await relay.send(record["envelope"]["mailFrom"]["email"], rcpt_to, raw)
        except RelayUnavailable as exc:
            raise _relay_error(exc) from None
        if not result.accepted:
            raise _nobody_accepted(result)
        record.update(undoStatus="final", deliveryStatus=_delivery_status(result), dsnBlobIds=[], mdnBlobIds=[])
        async with ctx.store.write() as tx:
            made = await tx.create_object(account_id, TYPE, record)
            if f"#{creation_id}" not in named:
                await _file_as_sent(tx, account_id, store_email_id)
        email_of[f"#{creation_id}"] = record["emailId"]
        return {key: value for key, value in to_json(made).items() if obj.get(key) != value}

    async def update(account_id: int, object_id: str, patch: dict[str, Any]) -> dict[str, Any] | None:
        async with ctx.store.read() as tx:
            found = await tx.get_objects(account_id, TYPE, _ids(SUBMISSION.parse(object_id)))
        if not found:
            raise SetError("notFound")
        current = to_json(found[0])
        patched = generic.apply_patch(current, patch)
        changed = sorted(key for key in {*current, *patched} if patched.get(key) != current.get(key))
        if changed == ["undoStatus"] and patched["undoStatus"] == "canceled":
            raise SetError("cannotUnsend", "The email was handed to the relay when it was submitted.")
        if changed:
            raise invalid_properties(*changed, description="Only undoStatus can change, and only to canceled.")
        email_of[object_id] = current["emailId"]
        return None

    async def destroy(account_id: int, object_id: str) -> None:
        """Only the record goes; what was sent stays sent (§7.5)."""
        async with ctx.store.write() as tx:
            found = await tx.get_objects(account_id, TYPE, _ids(SUBMISSION.parse(object_id)))
            if not found:
                raise SetError("notFound")
            await tx.delete_object(account_id, TYPE, found[0].id)
        email_of[object_id] = found[0].data["emailId"]

    return generic.SetHandlers(create, update, destroy)


async def submission_set(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    update_email = generic.string_map(arguments, "onSuccessUpdateEmail")
    destroy_email = generic.optional_id_list(arguments, "onSuccessDestroyEmail") or []
    email_of: dict[str, str] = {}
    result = await generic.standard_set(
        ctx, arguments, TYPE, set_handlers(ctx, {*update_email, *destroy_email}, email_of)
    )
    update = {email_of[key]: patch for key, patch in update_email.items() if key in email_of}
    destroy = [email_of[key] for key in destroy_email if key in email_of]
    if update or destroy:
        ctx.follow_ups.append(
            ("Email/set", {"accountId": arguments["accountId"], "update": update, "destroy": destroy})
        )
    return result


def register(registry: JmapRegistry) -> None:
    registry.push_types.add(TYPE)
    registry.add_method("EmailSubmission/get", SUBMISSION_CAPABILITY, submission_get)
    registry.add_method("EmailSubmission/changes", SUBMISSION_CAPABILITY, submission_changes)
    registry.add_method("EmailSubmission/query", SUBMISSION_CAPABILITY, submission_query)
    registry.add_method("EmailSubmission/queryChanges", SUBMISSION_CAPABILITY, submission_query_changes)
    registry.add_method("EmailSubmission/set", SUBMISSION_CAPABILITY, submission_set)
