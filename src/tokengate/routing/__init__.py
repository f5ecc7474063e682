from tokengate.errors import NoDeploymentAvailable
from tokengate.routing.balancer import Balancer, Deployment, Lease, Strategy
from tokengate.routing.breaker import (
    BreakerConfig,
    BreakerRegistry,
    BreakerSnapshot,
    BreakerState,
    CircuitBreaker,
    StateChange,
)
from tokengate.routing.plan import Attempt, Candidate, run_with_failover
from tokengate.routing.retry import RETRYABLE_STATUSES, Failure, FailureKind, RetryPolicy

__all__ = [
    "RETRYABLE_STATUSES",
    "Attempt",
    "Balancer",
    "BreakerConfig",
    "BreakerRegistry",
    "BreakerSnapshot",
    "BreakerState",
    "Candidate",
    "CircuitBreaker",
    "Deployment",
    "Failure",
    "FailureKind",
    "Lease",
    "NoDeploymentAvailable",
    "RetryPolicy",
    "StateChange",
    "Strategy",
    "run_with_failover",
]
