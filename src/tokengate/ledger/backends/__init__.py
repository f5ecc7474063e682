from tokengate.ledger.backends.base import LedgerBackend
from tokengate.ledger.backends.redis import RedisLedger
from tokengate.ledger.backends.sql import SqlLedger

__all__ = ["LedgerBackend", "RedisLedger", "SqlLedger"]
