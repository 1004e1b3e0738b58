"""JMAP (RFC 8620 core, RFC 8621 mail) over the shared store and its change log."""
