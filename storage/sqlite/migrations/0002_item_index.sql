-- Index fields that protocols extract on write, so queries need not parse stored objects.
ALTER TABLE items ADD COLUMN component TEXT;

-- Time spans of every instance of a calendar object, UTC epoch seconds, half-open.
-- Short spans are found by a range scan on start; long ones (open-ended recurrences) are few and scanned apart.
CREATE TABLE item_spans (
    item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    collection_id INTEGER NOT NULL,
    long INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL
);
CREATE INDEX item_spans_lookup ON item_spans(collection_id, long, start);
CREATE INDEX item_spans_item ON item_spans(item_id);
