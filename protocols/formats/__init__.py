"""Protocol-neutral data formats: each module owns one third-party parser, nothing here knows HTTP or storage."""
