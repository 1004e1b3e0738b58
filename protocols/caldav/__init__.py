"""CalDAV (RFC 4791): calendar collections, their properties, REPORTs and query filters."""
