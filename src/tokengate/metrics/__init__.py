from tokengate.metrics.endpoint import metrics_endpoint
from tokengate.metrics.gateway import (
    CircuitState,
    GatewayMetrics,
    InFlight,
    LedgerDecision,
    LedgerOp,
)

__all__ = [
    "CircuitState",
    "GatewayMetrics",
    "InFlight",
    "LedgerDecision",
    "LedgerOp",
    "metrics_endpoint",
]
