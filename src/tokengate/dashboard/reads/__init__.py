"""What dashboard pages read: SQL and ledger queries, no HTTP (pages render, reads query)."""
