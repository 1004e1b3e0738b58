"""CardDAV (RFC 6352): address book collections, their properties, REPORTs and query filters."""
