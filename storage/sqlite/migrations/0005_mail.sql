-- Mail: blobs, mailboxes, emails, threads, full-text search and typed JSON objects, all on the one change log.

-- JMAP entries carry the type they concern ('Email', 'Mailbox', ...); DAV entries keep ''. A JMAP entry has
-- collection_id 0, name = the object id, op created/modified/deleted or 'counts' (Mailbox counters only).
ALTER TABLE changes ADD COLUMN type TEXT NOT NULL DEFAULT '';
CREATE INDEX changes_type ON changes(account_id, type, modseq);

-- Content-addressed bytes, stored once per account. refs counts the emails using a blob; an unreferenced blob
-- survives until hold_until (uploads wait there for Email/import), then put_blob collects it.
CREATE TABLE blobs (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    blob_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    data BLOB NOT NULL,
    refs INTEGER NOT NULL DEFAULT 0,
    hold_until REAL NOT NULL,
    PRIMARY KEY (account_id, blob_id)
);
CREATE INDEX blobs_collectable ON blobs(hold_until) WHERE refs = 0;

-- AUTOINCREMENT everywhere below: JMAP ids are never reused, so a stale id never names a new object.
CREATE TABLE mailboxes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    parent_id INTEGER REFERENCES mailboxes(id),
    role TEXT,
    sort_order INTEGER NOT NULL DEFAULT 0,
    is_subscribed INTEGER NOT NULL DEFAULT 0,
    total_emails INTEGER NOT NULL DEFAULT 0,
    unread_emails INTEGER NOT NULL DEFAULT 0,
    total_threads INTEGER NOT NULL DEFAULT 0,
    unread_threads INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX mailboxes_name ON mailboxes(account_id, coalesce(parent_id, 0), name);
CREATE UNIQUE INDEX mailboxes_role ON mailboxes(account_id, role) WHERE role IS NOT NULL;
CREATE INDEX mailboxes_parent ON mailboxes(parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE threads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    subject TEXT NOT NULL
);
CREATE INDEX threads_account ON threads(account_id);

-- Per mailbox and thread, how many of the thread's emails (and unread ones) the mailbox holds: the mailbox's
-- thread counters move only when one of these goes between 0 and 1, so no write ever recounts a mailbox.
CREATE TABLE mailbox_threads (
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    thread_id INTEGER NOT NULL,
    emails INTEGER NOT NULL,
    unread INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, thread_id)
) WITHOUT ROWID;

-- summary and keywords are the JSON the protocol reads back; the other columns are what queries sort and filter on.
CREATE TABLE emails (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    blob_id TEXT NOT NULL,
    thread_id INTEGER NOT NULL REFERENCES threads(id),
    size INTEGER NOT NULL,
    received_at REAL NOT NULL,
    sent_at REAL,
    modseq INTEGER NOT NULL,
    has_attachment INTEGER NOT NULL,
    sort_subject TEXT NOT NULL,
    sort_from TEXT NOT NULL,
    sort_to TEXT NOT NULL,
    summary TEXT NOT NULL,
    keywords TEXT NOT NULL
);
CREATE INDEX emails_received ON emails(account_id, received_at, id);
CREATE INDEX emails_thread ON emails(thread_id, received_at);

-- received_at is copied here so "newest N of a mailbox" is a range scan of one index.
CREATE TABLE email_mailboxes (
    email_id INTEGER NOT NULL REFERENCES emails(id) ON DELETE CASCADE,
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    received_at REAL NOT NULL,
    PRIMARY KEY (mailbox_id, email_id)
) WITHOUT ROWID;
CREATE INDEX email_mailboxes_recent ON email_mailboxes(mailbox_id, received_at DESC, email_id DESC);
CREATE INDEX email_mailboxes_email ON email_mailboxes(email_id);

CREATE TABLE email_keywords (
    email_id INTEGER NOT NULL REFERENCES emails(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    keyword TEXT NOT NULL,
    PRIMARY KEY (email_id, keyword)
) WITHOUT ROWID;
CREATE INDEX email_keywords_lookup ON email_keywords(account_id, keyword);

-- Every message id an email carries: its own (own = 1) and the ones it refers to, with the email's thread.
CREATE TABLE message_ids (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    message_id TEXT NOT NULL,
    email_id INTEGER NOT NULL REFERENCES emails(id) ON DELETE CASCADE,
    thread_id INTEGER NOT NULL,
    own INTEGER NOT NULL
);
CREATE INDEX message_ids_lookup ON message_ids(account_id, message_id);
CREATE INDEX message_ids_email ON message_ids(email_id);

-- rowid = emails.id. A regular (content-keeping) table: SQLite 3.40 has no contentless_delete, and the stored
-- text feeds highlight()/snippet() and the exact check of the header filter.
CREATE VIRTUAL TABLE email_fts USING fts5(
    subject, from_, to, cc, bcc, body, attachments, headers, tokenize = 'unicode61 remove_diacritics 2'
);
-- Fires for cascades too, so deleting an account empties its search index.
CREATE TRIGGER emails_fts_delete AFTER DELETE ON emails BEGIN
    DELETE FROM email_fts WHERE rowid = old.id;
END;

-- Typed JSON objects of the JMAP layer (Identity, VacationResponse, EmailSubmission, PushSubscription, ...).
CREATE TABLE objects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    modseq INTEGER NOT NULL
);
CREATE INDEX objects_type ON objects(account_id, type, id);
