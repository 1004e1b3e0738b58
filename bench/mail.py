"""JMAP mail on one account of 100,000 messages: how fast they go in, and the reads a mail client makes.

The messages are generated (seeded, so every run makes the same ones) to look like a working mailbox rather than
like copies of one message: sizes from 2 KB to 50 KB with a long tail (median about 4 KB, p90 11 KB), 8% with
an attachment (PDF, JPEG or DOCX of random bytes, base64), 30% multipart/alternative with an HTML part; threads of
1 to 10 messages (most of one or two) whose replies carry ``Re:`` subjects, ``In-Reply-To``, ``References`` and the
quoted previous text; about 200 senders on 20 domains with a skewed share each, a few with non-ASCII names;
``Received`` headers; dates over two years. The text is drawn from a fixed vocabulary, except two marker words:
``HIT_WORD`` is in about 1% of the messages and ``RARE_WORD`` in exactly five, so a text search has a known
selectivity. 80% of the threads are in the inbox, the rest in the archive; most older messages are ``$seen``.

Ingest goes through the API as a client's bulk import would: every message uploaded as a blob, then one
``Email/import`` per batch of whole threads (about 100 messages, so threading never depends on which batch lands
first), by ``--clients`` concurrent connections (at most the session's ``maxConcurrentUpload``). It prints messages
per second and where the client's time went.

Then, ``--runs`` times each after two warm-up runs, over loopback HTTP:

* ``query inbox newest 50``: ``Email/query`` ``inMailbox`` inbox, ``receivedAt`` descending, limit 50;
* the same with ``collapseThreads`` (one message per thread, as a threaded message list asks);
* ``Email/get 50 + text bodies``: the message-list properties and ``fetchTextBodyValues`` for those 50;
* ``search ~1% word`` and ``search rare word``: ``Email/query`` ``text`` filter, newest 50, ``calculateTotal``
  (the results column is the total);
* ``SearchSnippet/get 50`` for the first 50 hits of the 1% word;
* ``Mailbox/get`` of every mailbox, counts included;
* ``Email/get 1, id only``: one id, one property, the cost of a request that does nothing, for comparison.

Run: ``python -m bench.mail`` (100,000 messages), ``--messages 2000`` for a quick try (well under a minute),
``--runs N``, ``--clients N``, ``--data-dir DIR`` to keep the imported account and reuse it next time.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import random
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx

from bench import harness

CORE = "urn:ietf:params:jmap:core"
MAIL = "urn:ietf:params:jmap:mail"
USING = [CORE, MAIL]
SEED = 20240506
HIT_WORD = "tangerine"
RARE_WORD = "xylophone"
RARE_HITS = 5
BATCH = 100
HEADER_BYTES = 700
"""About what the header block of a generated message takes, subtracted from its drawn size."""
END = datetime(2025, 12, 31, 18, tzinfo=UTC)
SPAN_SECONDS = 2 * 365 * 24 * 3600
LIST_PROPERTIES = [
    "id", "threadId", "mailboxIds", "keywords", "from", "to", "subject", "receivedAt", "size", "preview",
    "hasAttachment", "textBody", "bodyValues",
]  # fmt: skip


def words(text: str) -> list[str]:
    """The whitespace-separated words of a block of text: long word lists stay readable in the source."""
    return text.split()


VOCABULARY = words(
    """
about account action after agenda agreement analysis answer approval april area arrange attached audit august
available balance bank before benefit board booking branch brief budget build business calendar call campaign cancel
capacity card case cash change chapter check client close colleague comment committee company confirm contract copy
cost council country course customer data deadline deal december decision delivery department deposit design detail
develop director discount discuss document draft early estimate event expense export factory february feedback
figure file final finance floor follow forecast forward friday fund goal grant group growth guide handover hardware
health hiring holiday hotel idea import improve include income index inquiry install insurance interview invoice
issue item january july june launch lead legal letter license limit list loan location logistics lunch manager
manual march margin market material may meeting member memo method metric minutes model monday month network notice
november number october offer office onboarding operation option order outline owner package page partner payment
payroll pending people period permit phone pilot plan policy portal position posting presentation price priority
process product profit program project proposal purchase quality quarter question quote rate receipt record refund
region release remind rent report request research resource result review revenue risk roadmap room salary sale
sample saturday schedule scope season security segment september server service session share shipment signature
site slide software source staff stage standard statement status stock strategy study subject summary supplier
supply support survey system target task team template tender term test thursday ticket timeline topic total tour
training transfer travel trial tuesday update upgrade vendor venue version visit volume warehouse website wednesday
week workshop year yesterday today tomorrow please thanks kindly regarding attached following latest revised updated
shared internal external quick short long new old next last first second third annual monthly weekly daily approved
rejected pending urgent important minor major small large open closed ready late early
"""
)

FIRST_NAMES = words(
    """
Anna Ben Carla David Elena Felix Greta Hannah Ivan Julia Karl Laura Marco Nina Oscar Paula Quentin Rosa Stefan Tanja
Uwe Vera Walter Xenia Yusuf Zoe Amelie Bruno Chiara Dmitri Emma Farid Giulia Hugo Ines Jonas Kenji Lena Mats Noor
"""
)
LAST_NAMES = words(
    """
Adams Berger Costa Dubois Eriksen Fischer Garcia Hansen Ibrahim Jensen Kowalski Larsen Moreau Novak Olsen Petrov
Quinn Rossi Schmidt Tanaka Ueda Vogel Weber Xu Yilmaz Zimmermann Martin Silva Nowak Lindqvist
"""
)
ACCENTED = ["Zoë Müller", "José Peña", "Łukasz Żółć", "Søren Kjær", "Ana Conceição", "Jürgen Groß"]
DOMAINS = [
    f"{name}.example"
    for name in ["acme", "globex", "initech", "umbrella", "hooli", "vandelay", "stark", "wayne", "wonka", "tyrell"]
]
DOMAINS += [
    f"{name}.example.org"
    for name in ["cyberdyne", "soylent", "massive", "oscorp", "aperture", "gringotts", "pied", "virtucon"]
]
DOMAINS += ["mail.example.com", "post.example.net"]
ATTACHMENTS = [
    ("application/pdf", "pdf"),
    ("image/jpeg", "jpg"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
]
THREAD_LENGTHS = list(range(1, 11))
THREAD_WEIGHTS = [50, 18, 10, 7, 5, 3, 3, 2, 1, 1]


# --- the messages --------------------------------------------------------------------------------------------------


@dataclass
class Message:
    """One generated message and where it goes."""

    raw: bytes
    received_at: datetime
    mailbox: str
    keywords: dict[str, bool]


@dataclass
class Corpus:
    """The shared material the generator draws from: senders, subjects and wrapped paragraphs."""

    rng: random.Random
    senders: list[str] = field(default_factory=list)
    sender_weights: list[float] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, seed: int) -> Corpus:
        rng = random.Random(seed)
        corpus = cls(rng)
        names = [f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}" for _ in range(194)] + ACCENTED
        for n, name in enumerate(names):
            local = name.split()[0].lower().encode("ascii", "ignore").decode() or f"user{n}"
            address = f"{local}.{n}@{DOMAINS[n % len(DOMAINS)]}"
            display = Header(name, "utf-8").encode() if not name.isascii() else name
            corpus.senders.append(f"{display} <{address}>")
            corpus.sender_weights.append(1 / (n + 1) ** 0.8)
        weights = [1 / (n + 1) ** 0.6 for n in range(len(VOCABULARY))]
        for _ in range(3000):
            sentences = []
            for _ in range(rng.randint(2, 6)):
                words = rng.choices(VOCABULARY, weights, k=rng.randint(6, 18))
                sentences.append(" ".join(words).capitalize() + rng.choice(".,.!?."))
            corpus.paragraphs.append(textwrap.fill(" ".join(sentences), 72))
        return corpus

    def text(self, size: int, marker: str = "") -> str:
        """Paragraphs up to about ``size`` characters, with the marker sentence when given."""
        rng = self.rng
        parts = [f"Hello {rng.choice(FIRST_NAMES)},"]
        length = 0
        while length < size:
            paragraph = rng.choice(self.paragraphs)
            parts.append(paragraph)
            length += len(paragraph) + 2
        if marker:
            parts.insert(rng.randint(1, len(parts)), f"Please check the {marker} figures before the meeting.")
        parts.append(f"Best regards,\n{rng.choice(FIRST_NAMES)}")
        return "\n\n".join(parts) + "\n"


def total_size(rng: random.Random) -> int:
    """2 KB to 50 KB, long-tailed (Pareto, alpha 1.4): median 3.3 KB, p90 10 KB, about 1% at the 50 KB cap."""
    return min(50_000, int(2_000 * rng.paretovariate(1.4)))


def html_of(text: str) -> str:
    paragraphs = "".join(f"<p>{p.replace(chr(10), ' ')}</p>\n" for p in text.split("\n\n"))
    return f'<html><body style="font-family: sans-serif">\n{paragraphs}</body></html>\n'


TEXT_PART = 'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'


def mime_body(corpus: Corpus, n: int, size: int, marker: str, quoted: str) -> tuple[str, str, str]:
    """The MIME headers, body and plain text of the n-th message: plain, alternative, or mixed with an attachment."""
    rng = corpus.rng
    with_attachment = rng.random() < 0.08
    text_size = min(size, rng.randint(600, 3_000)) if with_attachment else size
    alternative = rng.random() < 0.3
    text = corpus.text(max(300, text_size // 2 if alternative else text_size), marker) + quoted
    plain_part = TEXT_PART.format(subtype="plain") + text
    if alternative:
        boundary = f"alt-{n:07d}"
        html_part = TEXT_PART.format(subtype="html") + html_of(text)
        body = f"--{boundary}\r\n{plain_part}\r\n--{boundary}\r\n{html_part}\r\n--{boundary}--\r\n"
        content = f'multipart/alternative; boundary="{boundary}"'
        plain_part = f"Content-Type: {content}\r\n\r\n{body}"
    if not with_attachment:
        head, _, body = plain_part.partition("\r\n\r\n")
        return head, body, text
    content_type, extension = rng.choice(ATTACHMENTS)
    data = rng.randbytes(max(1_000, (size - len(text)) * 3 // 4))
    encoded = base64.encodebytes(data).decode("ascii")
    boundary = f"mixed-{n:07d}"
    name = f"{rng.choice(VOCABULARY)}-{n}.{extension}"
    attachment = (
        f'Content-Type: {content_type}; name="{name}"\r\nContent-Disposition: attachment; filename="{name}"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{encoded}"
    )
    body = f"--{boundary}\r\n{plain_part}\r\n--{boundary}\r\n{attachment}\r\n--{boundary}--\r\n"
    return f'Content-Type: multipart/mixed; boundary="{boundary}"', body, text


def thread(corpus: Corpus, first: int, length: int, markers: dict[int, str]) -> Iterator[tuple[bytes, datetime]]:
    """The messages of one thread, numbered from ``first``: the opener, then replies to the previous one."""
    rng = corpus.rng
    subject = " ".join(rng.choices(VOCABULARY, k=rng.randint(2, 6))).capitalize()
    sent = END - timedelta(seconds=rng.randrange(SPAN_SECONDS))
    references: list[str] = []
    quoted = ""
    for n in range(first, first + length):
        sender = rng.choices(corpus.senders, corpus.sender_weights)[0]
        host = sender.rsplit("@", 1)[1].rstrip(">")
        message_id = f"<{n:07d}.{rng.getrandbits(40):010x}@{host}>"
        received = sent + timedelta(seconds=rng.randint(2, 90))
        head, body, text = mime_body(corpus, n, total_size(rng) - HEADER_BYTES, markers.get(n, ""), quoted)
        lines = [
            f"Received: from mx.{host} (mx.{host} [192.0.2.{n % 250 + 1}]) by mail.example.com with ESMTPS id"
            f" {rng.getrandbits(48):012x}; {format_datetime(received)}",
            f"Received: from [10.0.{n % 200}.{n % 250 + 1}] by mx.{host} with ESMTPSA; {format_datetime(sent)}",
            f"From: {sender}",
            f"To: Bench User <{harness.USER}@example.com>",
            *([f"Cc: {rng.choices(corpus.senders, corpus.sender_weights)[0]}"] if rng.random() < 0.2 else []),
            f"Subject: {'Re: ' if references else ''}{subject}",
            f"Date: {format_datetime(sent)}",
            f"Message-ID: {message_id}",
            *([f"In-Reply-To: {references[-1]}", f"References: {' '.join(references[-8:])}"] if references else []),
            "MIME-Version: 1.0",
            "X-Mailer: bench-mail 1.0",
            head,
        ]
        raw = "\r\n".join(lines) + "\r\n\r\n" + body.replace("\r\n", "\n").replace("\n", "\r\n")
        yield raw.encode("utf-8"), received
        references.append(message_id)
        opening = "\n\n".join(text.split("\n\n", 2)[:2])[:1500]
        quoted = f"\nOn {format_datetime(sent)}, {sender} wrote:\n" + textwrap.indent(opening, "> ", lambda _: True)
        sent = sent + timedelta(seconds=int(rng.expovariate(1 / 7200)) + 60)


def batches(messages: int, seed: int = SEED, batch_size: int = BATCH) -> Iterator[list[Message]]:
    """All ``messages`` in batches of whole threads, about ``batch_size`` each."""
    corpus = Corpus.build(seed)
    rng = corpus.rng
    markers = {n: HIT_WORD for n in range(messages) if rng.random() < 0.01}
    step = max(1, messages // RARE_HITS)
    markers.update({n * step + step // 2: RARE_WORD for n in range(RARE_HITS) if n * step + step // 2 < messages})
    recent = END - timedelta(days=14)
    batch: list[Message] = []
    n = 0
    while n < messages:
        length = min(rng.choices(THREAD_LENGTHS, THREAD_WEIGHTS)[0], messages - n)
        if batch and len(batch) + length > batch_size:
            yield batch
            batch = []
        mailbox = "inbox" if rng.random() < 0.8 else "archive"
        for raw, received in thread(corpus, n, length, markers):
            seen = received < recent and rng.random() < 0.9
            keywords = {"$seen": True} if seen else {}
            if rng.random() < 0.02:
                keywords["$flagged"] = True
            batch.append(Message(raw, received, mailbox, keywords))
        n += length
    if batch:
        yield batch


# --- ingest ----------------------------------------------------------------------------------------------------------


@dataclass
class Ingest:
    """Upload + Email/import by several concurrent clients, and where their time went."""

    client: httpx.AsyncClient
    session: dict[str, Any]
    mailboxes: dict[str, str]
    imported: int = 0
    octets: int = 0
    upload_seconds: float = 0.0
    import_seconds: float = 0.0
    generate_seconds: float = 0.0
    next_report: int = 0
    total: int = 0
    started: float = 0.0

    @property
    def account(self) -> str:
        return str(self.session["primaryAccounts"][MAIL])

    async def upload(self, raw: bytes) -> str:
        url = self.session["uploadUrl"].replace("{accountId}", self.account)
        response = await self.client.post(url, content=raw, headers={"Content-Type": "message/rfc822"})
        if response.status_code != 201:
            raise RuntimeError(f"upload answered {response.status_code}: {response.text[:500]}")
        return str(response.json()["blobId"])

    async def import_batch(self, batch: list[Message]) -> None:
        clock = time.perf_counter()
        blobs = [await self.upload(message.raw) for message in batch]
        self.upload_seconds += time.perf_counter() - clock
        emails = {
            f"m{k}": {
                "blobId": blob,
                "mailboxIds": {self.mailboxes[message.mailbox]: True},
                "keywords": message.keywords,
                "receivedAt": message.received_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            for k, (blob, message) in enumerate(zip(blobs, batch, strict=True))
        }
        clock = time.perf_counter()
        [[name, result, _]] = await api(self.client, [["Email/import", {"accountId": self.account, "emails": emails}]])
        self.import_seconds += time.perf_counter() - clock
        if name != "Email/import" or result.get("notCreated") or len(result.get("created") or {}) != len(batch):
            raise RuntimeError(f"Email/import answered {name}: {str(result)[:1000]}")
        self.imported += len(batch)
        self.octets += sum(len(message.raw) for message in batch)
        if self.imported >= self.next_report:
            elapsed = time.perf_counter() - self.started
            print(
                f"  {self.imported:>9,} / {self.total:,} imported, {self.imported / elapsed:,.0f} messages/s",
                flush=True,
            )
            self.next_report += max(self.total // 10, 1)

    async def worker(self, source: Iterator[list[Message]]) -> None:
        while True:
            clock = time.perf_counter()
            batch = next(source, None)
            self.generate_seconds += time.perf_counter() - clock
            if batch is None:
                return
            await self.import_batch(batch)

    async def run(self, messages: int, clients: int, batch_size: int) -> float:
        self.total = messages
        self.next_report = max(messages // 10, 1)
        self.started = time.perf_counter()
        source = batches(messages, batch_size=batch_size)
        await asyncio.gather(*(self.worker(source) for _ in range(clients)))
        return time.perf_counter() - self.started


async def api(client: httpx.AsyncClient, calls: list[list[Any]]) -> list[list[Any]]:
    body = {"using": USING, "methodCalls": [[name, arguments, f"c{n}"] for n, (name, arguments) in enumerate(calls)]}
    response = await client.post("/jmap/api/", json=body)
    if response.status_code != 200:
        raise RuntimeError(f"POST /jmap/api/ answered {response.status_code}: {response.text[:1000]}")
    return list(response.json()["methodResponses"])


async def ingest(base_url: str, messages: int, clients: int) -> None:
    """Import the messages unless the account already holds exactly that many."""
    auth = (harness.USER, harness.PASSWORD)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, auth=auth, timeout=600, limits=limits) as client:
        session = (await client.get("/jmap/session")).raise_for_status().json()
        account = str(session["primaryAccounts"][MAIL])
        [[_, listed, _], [_, counted, _]] = await api(
            client,
            [
                ["Mailbox/get", {"accountId": account, "ids": None}],
                ["Email/query", {"accountId": account, "calculateTotal": True, "limit": 0}],
            ],
        )
        mailboxes = {str(mailbox["role"]): str(mailbox["id"]) for mailbox in listed["list"] if mailbox.get("role")}
        existing = int(counted.get("total", 0))
        if existing == messages:
            print(f"reusing the {existing:,} messages already imported")
            return
        if existing:
            raise SystemExit(f"the data dir holds {existing:,} messages, not {messages:,}: use another --data-dir")
        core = session["capabilities"][CORE]
        clients = min(clients, int(core["maxConcurrentUpload"]), int(core["maxConcurrentRequests"]))
        batch_size = min(BATCH, int(core["maxObjectsInSet"]))
        run = Ingest(client, session, mailboxes)
        elapsed = await run.run(messages, clients, batch_size)
        busy = run.upload_seconds + run.import_seconds + run.generate_seconds
        print(
            f"imported {run.imported:,} messages ({run.octets / 1e6:,.0f} MB) in {elapsed:,.1f} s: "
            f"{run.imported / elapsed:,.0f} messages/s, {run.octets / 1e6 / elapsed:,.1f} MB/s "
            f"({clients} clients, batches of ~{batch_size}; client time: upload {run.upload_seconds / busy:.0%}, "
            f"Email/import {run.import_seconds / busy:.0%}, generating {run.generate_seconds / busy:.0%})"
        )


# --- the measurements ------------------------------------------------------------------------------------------------


class Bench:
    """The reads, each a single JMAP request over the bench client."""

    def __init__(self, client: httpx.Client, runs: int) -> None:
        self.client = client
        self.runs = runs
        session = client.get("/jmap/session").raise_for_status().json()
        self.account = str(session["primaryAccounts"][MAIL])
        listed = self.call("Mailbox/get", {"ids": None})["list"]
        self.inbox = next(str(mailbox["id"]) for mailbox in listed if mailbox.get("role") == "inbox")

    def call(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        body = {"using": USING, "methodCalls": [[name, {"accountId": self.account, **arguments}, "c"]]}
        response = self.client.post("/jmap/api/", json=body)
        assert response.status_code == 200, (response.status_code, response.text[:1000])
        [[answered, result, _]] = response.json()["methodResponses"]
        assert answered == name, (name, result)
        return dict(result)

    def measure(self, operation: str, name: str, arguments: dict[str, Any], count: str) -> harness.Figures:
        """``name`` timed ``runs`` times; results = ``len(result[count])``, or the number itself for ``total``."""
        durations, answers = harness.timed_calls(lambda: self.call(name, arguments), self.runs)
        value = answers[-1][count]
        return harness.figures_of(operation, durations, value if isinstance(value, int) else len(value))

    def newest(self, **extra: Any) -> dict[str, Any]:
        return {"sort": [{"property": "receivedAt", "isAscending": False}], "limit": 50, **extra}

    def all(self) -> list[harness.Figures]:
        inbox = {"inMailbox": self.inbox}
        page = self.call("Email/query", self.newest(filter=inbox))["ids"]
        hits = self.call("Email/query", self.newest(filter={"text": HIT_WORD}))["ids"]
        get = {"ids": page, "properties": LIST_PROPERTIES, "fetchTextBodyValues": True}
        return [
            self.measure("query inbox newest 50", "Email/query", self.newest(filter=inbox), "ids"),
            self.measure("  + collapseThreads", "Email/query", self.newest(filter=inbox, collapseThreads=True), "ids"),
            self.measure("Email/get 50 + text bodies", "Email/get", get, "list"),
            self.measure(
                f"search ~1% word ({HIT_WORD})",
                "Email/query",
                self.newest(filter={"text": HIT_WORD}, calculateTotal=True),
                "total",
            ),
            self.measure(
                f"search rare word ({RARE_WORD})",
                "Email/query",
                self.newest(filter={"text": RARE_WORD}, calculateTotal=True),
                "total",
            ),
            self.measure(
                "SearchSnippet/get 50", "SearchSnippet/get", {"emailIds": hits, "filter": {"text": HIT_WORD}}, "list"
            ),
            self.measure("Mailbox/get", "Mailbox/get", {"ids": None}, "list"),
            self.measure("Email/get 1, id only", "Email/get", {"ids": page[:1], "properties": ["id"]}, "list"),
        ]


COLUMNS = (
    harness.Column("messages", ">9"),
    harness.Column("operation", "<30", gap="  "),
    harness.Column("median ms", ">10", ".1f"),
    harness.Column("p90 ms", ">8", ".1f"),
    harness.Column("results", ">8"),
)


async def prepare_account(data_dir: Path) -> None:
    async with harness.opened_store(data_dir) as store:
        await harness.bench_account(store)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--clients", type=int, default=4, help="concurrent import connections")
    parser.add_argument("--data-dir", type=Path, help="keep the imported account here and reuse it")
    args = parser.parse_args()
    with harness.data_directory(args.data_dir) as data_dir:
        asyncio.run(prepare_account(data_dir))
        with harness.bench_client(data_dir, timeout=600) as client:
            asyncio.run(ingest(str(client.base_url), args.messages, args.clients))
            harness.print_table(
                f"\nJMAP mail over loopback HTTP, {args.runs} runs each (after 2 warm-up runs)",
                COLUMNS,
                (
                    (args.messages, f.operation, f.median_ms, f.p90_ms, f.results)
                    for f in Bench(client, args.runs).all()
                ),
            )


if __name__ == "__main__":
    main()
