import random
from datetime import UTC, datetime

from tests.demo.factories import ENGINES, HEAVY
from tokengate.catalog.schemas import TokenUsage
from tokengate.catalog.service import price_usage
from tokengate.demo.records import Draw, failure_record, success_record

AT = datetime(2025, 3, 14, 1, 2, 3, tzinfo=UTC)


def test_success_records_are_priced():
    rng = random.Random(5)
    for n in range(200):
        engine = ENGINES[n % len(ENGINES)]
        draw = Draw(at=AT, engine=engine, tokens=(4_000, 1_500))
        record = success_record(rng, subject=HEAVY, draw=draw)
        usage = TokenUsage(
            input_tokens=4_000, output_tokens=1_500, cached_tokens=record.cached_tokens
        )
        assert record.cost_micros == price_usage(route=engine.route, usage=usage) > 0
        assert record.model_id == engine.route.model_id
        assert record.status == "ok"
        assert record.http_status == 200
        assert 0 <= record.cached_tokens <= 4_000
        assert (record.ttft_ms is not None) == record.stream
        assert record.latency_ms > (record.ttft_ms or 0)
        assert record.created_at == AT


def test_failure_records_cost_nothing():
    rng = random.Random(6)
    draw = Draw(at=AT, engine=ENGINES[2], tokens=(4_000, 1_500))
    record = failure_record(rng, subject=HEAVY, draw=draw, at=AT)
    assert record.status == "upstream_error"
    assert record.error_code in {"upstream_unavailable", "upstream_status"}
    assert (record.input_tokens, record.output_tokens, record.cost_micros) == (0, 0, 0)
    assert record.model == "C7"
