-- Search terms a protocol extracted on write (names, addresses, phone numbers), normalised by the protocol,
-- so an address book is searched by equality or prefix through an index instead of parsing every card.
CREATE TABLE item_terms (
    item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    collection_id INTEGER NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX item_terms_lookup ON item_terms(collection_id, field, value);
CREATE INDEX item_terms_item ON item_terms(item_id);
