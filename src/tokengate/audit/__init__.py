"""The append-only record of every administrative change."""
