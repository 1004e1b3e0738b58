-- Accounts own everything; modseq is the account-wide change counter behind every sync token and state.
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    quota_bytes INTEGER,
    used_bytes INTEGER NOT NULL DEFAULT 0,
    modseq INTEGER NOT NULL DEFAULT 0,
    compacted_modseq INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL
);

-- AUTOINCREMENT: a collection id is part of its sync tokens, so a deleted collection's id is never reused.
CREATE TABLE collections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    path TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    properties TEXT NOT NULL DEFAULT '{}',
    modseq INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    modified REAL NOT NULL
);
CREATE INDEX collections_account ON collections(account_id);

-- Item metadata only: listing a collection never touches bodies.
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    etag TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    uid TEXT,
    modseq INTEGER NOT NULL,
    created REAL NOT NULL,
    modified REAL NOT NULL,
    properties TEXT NOT NULL DEFAULT '{}',
    UNIQUE (collection_id, name)
);
CREATE INDEX items_uid ON items(collection_id, uid) WHERE uid IS NOT NULL;
CREATE INDEX items_modseq ON items(collection_id, modseq);

CREATE TABLE bodies (
    item_id INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
    data BLOB NOT NULL
);

-- The one change log: every item write appends a row; deletes leave a tombstone row.
CREATE TABLE changes (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    modseq INTEGER NOT NULL,
    collection_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    op TEXT NOT NULL,
    PRIMARY KEY (account_id, modseq)
) WITHOUT ROWID;
CREATE INDEX changes_collection ON changes(collection_id, modseq);

CREATE TABLE locks (
    token TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    depth_infinity INTEGER NOT NULL,
    exclusive INTEGER NOT NULL,
    owner_xml TEXT NOT NULL,
    principal TEXT NOT NULL,
    expires REAL NOT NULL,
    timeout_seconds INTEGER,
    extra TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX locks_path ON locks(path);
