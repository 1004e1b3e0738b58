"""CardDAV on address books of 1,000 / 10,000 (/ 100,000) cards: addressbook-query by name prefix (autocomplete),
addressbook-multiget of 100, incremental sync-collection after one change, and PROPFIND Depth:1 etags.

Each address book is written straight into the store before the server starts, every card indexed by
``protocols.formats.vcard.index_vcard`` exactly as a PUT would (so the term index is real). Cards are vCard 3.0 as
phones write them: FN and N from a first-name list and a last-name list (international, some non-ASCII), so the
name distribution, and with it a prefix's selectivity, is that of a real address book rather than of unique
strings; one or two EMAILs, one to three TELs, ORG/TITLE for most, an ADR for some, a NOTE for a few, REV.

The prefix queries ask ``FN starts-with`` and return getetag + address-data, as autocompletion does:

* ``"mar"``: a broad, three-letter prefix (Maria, Mario, Marco, Marta, Martin, ...): its answer grows with the
  address book (about 6% of it), so its time may grow with the answer, never faster.
* ``"zuzanna now"``: a first name and the start of a last name that are in neither list: the answer is the same
  ten cards every address book holds (Zuzanna Nowicka, Zuzanna Nowak-Lis, ...), whatever its size, so its time
  shows what the address book's size costs a query. It must stay flat when the query is answered from the index.

Each runs with ``i;ascii-casemap`` (which the server answers from its term index) and with the default collation
``i;unicode-casemap`` (RFC 6352 §10.5.4; index-driven or a full scan depending on the server version); the
``plan`` column says which, from ``protocols.carddav.filters.index_terms`` of the running code: ``index`` (the store
pre-selects candidates by term) or ``scan`` (every card is read and parsed).

The incremental sync PUTs one card (not timed), then syncs from the token of the previous sync: one change, one
response.

Run: ``python -m bench.carddav`` (1,000 and 10,000), ``--large`` adds 100,000, ``--runs N``; ``--data-dir DIR``
keeps the populated database for the next run.
"""

from __future__ import annotations

import asyncio
import random
import unicodedata
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import httpx
from lxml import etree

from bench import harness
from protocols.carddav import filters
from protocols.formats.vcard import index_vcard
from storage.api import ItemWrite

CONTENT_TYPE = "text/vcard; charset=utf-8"
BATCH = 5000
CARDDAV_NS = "urn:ietf:params:xml:ns:carddav"
NAMESPACES = f'xmlns:D="DAV:" xmlns:CR="{CARDDAV_NS}"'
BROAD_PREFIX = "mar"
NARROW_PREFIX = "zuzanna now"
PROBE_CARDS = 10


def words(text: str) -> list[str]:
    return text.split()


FIRST_NAMES = words(
    """
Aaron Adam Adriana Agnieszka Ahmed Aiko Alberto Alejandro Aleksandra Alexander Alice Amelia Ana Andrea Andreas
Anna Anne Antoine Antonio Astrid Aurélie Barbara Beatriz Benjamin Bernd Bianca Björn Carla Carlos Carmen Caroline
Catherine Charlotte Chen Chloé Christian Christina Claudia Daniel Daniela David Dominik Dorota Elena Elif Elisabeth
Emil Emily Emma Enrique Erik Eva Fabian Felix Fernando Florian Francesca Francisco François Frank Friederike
Gabriel Giulia Giuseppe Hana Hannah Hans Harald Heinz Helena Hiroshi Hugo Ines Ingrid Isabel Jakob James Jan
Javier Jean Jennifer Jens Joanna Johanna John Jonas José Juan Julia Julian Jürgen Karin Karl Katarzyna Katharina
Kenji Klaus Laura Lea Lena Leon Lucas Lucía Luis Łukasz Manuel Marc Marcel Marco Margarete Maria Marie Mario
Mark Marta Martin Martina Mateusz Matthias Max Mehmet Michael Michał Miguel Mia Monika Nadine Natalia Nicolas
Niklas Nina Noah Olga Oliver Pablo Patrick Paul Paula Pedro Peter Petra Philipp Pierre Piotr Rafael Ralf Rebecca
Robert Roberto Sabine Sara Sarah Sebastian Sergio Simon Sofia Sophie Stefan Stefanie Susanne Sven Thomas Tim
Tobias Tomasz Ursula Valentina Vanessa Victor Wei Wolfgang Yuki Yusuf Zoë Zofia
"""
)

LAST_NAMES = words(
    """
Abe Adler Albrecht Álvarez Arnold Bauer Baumann Beck Becker Bergmann Bianchi Böhm Braun Brown Bruno Busch Castro
Colombo Costa Dąbrowski Davis Dietrich Dubois Durand Ebert Engel Esposito Fernández Fischer Fontaine Fuchs Garcia
Gómez González Graf Günther Haas Hahn Hartmann Heinrich Herrmann Hoffmann Hofmann Horn Huber Jäger Jankowski
Johnson Jones Jung Kaiser Kamiński Keller Kim Klein Koch Kovač Kowalczyk Kowalski Krause Krüger Kuhn Kumar
Lange Lehmann Lewandowski Li Lindqvist López Lorenz Ludwig Maier Martin Martínez Mayer Meier Meyer Miller Moreau
Morel Möller Müller Nakamura Neumann Nowak Nowakowski Öztürk Otto Peters Petit Pohl Popescu Ricci Richter Roth
Rossi Roux Rubio Russo Sánchez Santos Sato Schäfer Scharf Schmid Schmidt Schmitt Schneider Scholz Schreiber
Schröder Schubert Schulte Schulz Schumacher Schuster Schwarz Silva Simon Smith Sommer Stein Suzuki Takahashi
Tanaka Thomas Vogel Vogt Wagner Walter Wang Weber Weiß Werner Wiśniewski Wolf Wójcik Wong Yamamoto Yilmaz
Zhang Ziegler Zimmermann
"""
)

COMPANIES = [
    "Orchard Labs",
    "Beispiel GmbH",
    "Contoso AG",
    "Empresa Ejemplo S.L.",
    "Example e.V.",
    "Müller & Söhne",
    "Northwind Traders",
    "Fabrikam Inc.",
    "Stadtwerke Nord",
    "Université de Lyon",
]
TITLES = ["Engineer", "Sales", "Einkauf", "Projektleiterin", "CEO", "Support", "Buchhaltung", "Consultant"]
CITIES = [("Berlin", "10115", "Deutschland"), ("Madrid", "28014", "España"), ("Warszawa", "00-590", "Polska")]


def book_path(size: int) -> str:
    return f"addressbooks/{harness.USER}/b{size}/"


# --- the address books ------------------------------------------------------------------------------------------


def ascii_local(name: str) -> str:
    """The local part of an e-mail address for a name: lower case, accents dropped (Jürgen -> jurgen)."""
    folded = name.lower().replace("ß", "ss").replace("ł", "l")
    return unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()


DEFAULT_NOTE = "Met at the conference\\, follow up in spring."


def card(n: int, rng: random.Random) -> tuple[str, bytes]:
    """The n-th card of an address book: a person with realistic properties."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    uid = f"bench-{n:07d}-{rng.getrandbits(32):08x}"
    company = rng.choice(COMPANIES)
    domain = "-".join(ascii_local(company).replace("&", " ").replace(".", " ").split()) + ".example"
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        "PRODID:-//groupware-gateway//bench//EN",
        f"UID:{uid}",
        f"FN:{first} {last}",
        f"N:{last};{first};;;",
        f"EMAIL;TYPE=INTERNET,WORK:{ascii_local(first)}.{ascii_local(last)}@{domain}",
    ]
    if rng.random() < 0.4:
        lines.append(f"EMAIL;TYPE=INTERNET,HOME:{ascii_local(first)}{rng.randint(1, 99)}@mail.example")
    for kind in rng.sample(["CELL", "WORK", "HOME"], rng.randint(1, 3)):
        lines.append(f"TEL;TYPE={kind}:+49 {rng.randint(150, 179)} {rng.randint(1000000, 9999999)}")
    if rng.random() < 0.7:
        lines.append(f"ORG:{company};{rng.choice(['Vertrieb', 'IT', 'Research', 'Einkauf'])}")
        lines.append(f"TITLE:{rng.choice(TITLES)}")
    if rng.random() < 0.4:
        city, code, country = rng.choice(CITIES)
        lines.append(f"ADR;TYPE=WORK:;;Hauptstraße {rng.randint(1, 200)};{city};;{code};{country}")
    if rng.random() < 0.1:
        lines.append(f"NOTE:{DEFAULT_NOTE}")
    lines += ["REV:2024-03-01T10:00:00Z", "END:VCARD", ""]
    return f"{uid}.vcf", "\r\n".join(lines).encode()


def probe_card(n: int) -> tuple[str, bytes]:
    """The n-th of the PROBE_CARDS cards every address book holds, all found by NARROW_PREFIX."""
    uid = f"probe-{n:02d}"
    last = ["Nowicka", "Nowak-Lis", "Nowakowska", "Nowosielska", "Nowotna"][n % 5]
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        f"UID:{uid}",
        f"FN:Zuzanna {last}{'' if n < 5 else ' ' + str(n)}",
        f"N:{last};Zuzanna;;;",
        f"EMAIL;TYPE=INTERNET:zuzanna.{n}@example.pl",
        "END:VCARD",
        "",
    ]
    return f"{uid}.vcf", "\r\n".join(lines).encode()


def book_cards(size: int) -> Iterator[tuple[str, bytes]]:
    """PROBE_CARDS fixed cards, then random people up to ``size``."""
    for n in range(PROBE_CARDS):
        yield probe_card(n)
    rng = random.Random(size)
    for n in range(size - PROBE_CARDS):
        yield card(n, rng)


def indexed(name: str, data: bytes) -> ItemWrite:
    _, index = index_vcard(data)
    return ItemWrite(name, data, CONTENT_TYPE, uid=index.uid, terms=index.terms)


BOOK_PROPERTIES = {"{DAV:}displayname": '<D:displayname xmlns:D="DAV:">Bench</D:displayname>'}


async def populate(data_dir: Path, sizes: list[int]) -> None:
    """Write the address books that are not there yet, BATCH cards per transaction."""
    async with harness.opened_store(data_dir) as store:
        account = await harness.bench_account(store)
        for size in sizes:
            book = harness.Collection(
                book_path(size), "addressbook", BOOK_PROPERTIES, partial(book_cards, size), indexed, "card"
            )
            await harness.fill(store, account, size, book, BATCH)


# --- the measurements -------------------------------------------------------------------------------------------


def prefix_query(prefix: str, collation: str | None) -> str:
    attribute = f' collation="{collation}"' if collation else ""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><CR:addressbook-query {NAMESPACES}>'
        "<D:prop><D:getetag/><CR:address-data/></D:prop>"
        '<CR:filter><CR:prop-filter name="FN">'
        f'<CR:text-match match-type="starts-with"{attribute}>{prefix}</CR:text-match>'
        "</CR:prop-filter></CR:filter></CR:addressbook-query>"
    )


def plan_of(body: str) -> str:
    """``index`` when the running code pre-selects candidates from the term index for this query, else ``scan``."""
    element = etree.fromstring(body.encode()).find(f"{{{CARDDAV_NS}}}filter")
    assert element is not None
    query = filters.parse_filter(element)
    return "scan" if filters.index_terms(query) is None else "index"


def multiget(hrefs: list[str]) -> str:
    inner = "".join(f"<D:href>{href}</D:href>" for href in hrefs)
    return (
        f'<?xml version="1.0" encoding="utf-8"?><CR:addressbook-multiget {NAMESPACES}>'
        f"<D:prop><D:getetag/><CR:address-data/></D:prop>{inner}</CR:addressbook-multiget>"
    )


def sync_request(token: str) -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><D:sync-collection {NAMESPACES}><D:sync-token>{token}</D:sync-token>'
        "<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"
    )


class Bench(harness.CollectionBench):
    def __init__(self, client: httpx.Client, size: int, runs: int) -> None:
        super().__init__(client, "/dav/" + book_path(size), runs)
        self.size = size

    def reporter(self, body: str) -> Callable[[], httpx.Response]:
        return lambda: self.report(body)

    def all(self) -> list[harness.Figures]:
        figures = []
        for prefix in (BROAD_PREFIX, NARROW_PREFIX):
            for collation, label in (("i;ascii-casemap", "ascii"), (None, "default")):
                body = prefix_query(prefix, collation)
                figures.append(self.measure(f'FN ^"{prefix}" {label}', self.reporter(body), plan=plan_of(body)))
        rng = random.Random(self.size + 1)
        names: list[str] = []
        last = b""
        for name, data in book_cards(self.size):
            names.append(name)
            last = data
        sample = [self.url + name for name in rng.sample(names, 100)]
        figures.append(self.measure("multiget 100", lambda: self.report(multiget(sample))))
        figures.append(
            self.sync_after_one_change(
                names[-1],
                lambda n: last.replace(b"END:VCARD", f"NOTE:changed {n}\r\nEND:VCARD".encode()),
                CONTENT_TYPE,
                sync_request,
            )
        )
        figures.append(self.propfind_etags())
        return figures


COLUMNS = (
    harness.Column("items", ">8"),
    harness.Column("operation", "<28", gap="  "),
    harness.Column("plan", "<6"),
    harness.Column("median ms", ">10", ".1f"),
    harness.Column("p90 ms", ">8", ".1f"),
    harness.Column("results", ">8"),
)


def main() -> None:
    parser = harness.size_parser(__doc__, "address book", "add an address book of 100,000 cards")
    args = parser.parse_args()
    sizes = harness.parse_sizes(args.sizes, args.large)
    with harness.data_directory(args.data_dir) as data_dir:
        asyncio.run(populate(data_dir, sizes))
        with harness.bench_client(data_dir, timeout=600) as client:
            harness.print_table(
                f"\nCardDAV over loopback HTTP, {args.runs} runs each (after 2 warm-up runs)",
                COLUMNS,
                (
                    (size, f.operation, f.plan, f.median_ms, f.p90_ms, f.results)
                    for size in sizes
                    for f in Bench(client, size, args.runs).all()
                ),
            )


if __name__ == "__main__":
    main()
