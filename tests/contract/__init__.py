"""The storage contract: one suite every backend must pass."""
