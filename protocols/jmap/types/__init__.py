"""One module per JMAP object type: its descriptor and methods, registered with ``register``."""
