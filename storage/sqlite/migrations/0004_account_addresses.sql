-- Who an account is to others: a display name and mail addresses (one primary, any number of aliases).
-- An address belongs to one account at most; mail delivery and the directory look accounts up by it.
ALTER TABLE accounts ADD COLUMN display_name TEXT;

CREATE TABLE account_addresses (
    address TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    is_primary INTEGER NOT NULL
);
CREATE INDEX account_addresses_account ON account_addresses(account_id);
