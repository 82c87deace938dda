"""Webhook bodies: every notice the engine produces fits the published JSON Schema and reads well."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import jsonschema
import orjson
import pytest

from alerting.payload import SCHEMA_PATH, notice_body
from monitor.demo_stream import sample_events
from monitor.engine import Engine
from monitor.events import decode_event
from monitor.loader import load_contracts
from monitor.settings import DEFAULT_CONTRACTS
from monitor.wording import clause_words, duration_words, period_label
from tests.builders import contract, response, uptime

SCHEMA = json.loads(SCHEMA_PATH.read_text())


@pytest.fixture(scope="module")
def sample_notices():
    contracts = load_contracts(DEFAULT_CONTRACTS).contracts
    engine = Engine(contracts, timedelta(hours=1))
    notices = []
    for event in sample_events():
        engine.apply(decode_event(orjson.dumps(event)))
        notices += engine.take_notices()
    engine.advance(datetime.fromisoformat("2026-12-31T00:00:00+00:00"))
    notices += engine.take_notices()
    return {c.id: c for c in contracts}, notices


def test_the_schema_is_a_valid_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_every_sample_notice_fits_the_schema(sample_notices) -> None:
    contracts, notices = sample_notices
    kinds = {n.type.value for n in notices}
    assert kinds == {"sla.at_risk", "sla.breached", "sla.period_closed"}
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    for notice in notices:
        body = notice_body(notice.to_record(), contracts[notice.contract])
        validator.validate(body)
        assert body["data"]["notice_id"] == notice.id


def test_a_month_close_names_the_credit_and_the_remedy(sample_notices) -> None:
    contracts, notices = sample_notices
    closing = [n for n in notices if n.type.value == "sla.period_closed" and n.facts["remedies"]]
    assert closing, "the sample stream has two consecutive misses"
    body = notice_body(closing[0].to_record(), contracts[closing[0].contract])
    assert body["data"]["remedies"][0]["text"].startswith("the Client may")
    assert body["data"]["credit"]["amount"] == closing[0].facts["credit_amount"]
    assert "credit owed" in body["data"]["summary"]


def test_the_sample_clause_in_words() -> None:
    sample = uptime(consecutive={"periods": 2, "credit_percent": 10, "remedy": "contract_review"})
    text = clause_words(contract(sample), contract(sample).clauses[0])
    assert text == (
        "The Provider shall maintain an uptime of at least 99.5% for the service 'api' in each calendar "
        "month (Europe/Berlin), excluding scheduled maintenance. If missed for 2 consecutive months or "
        "more: a further credit of 10% and the Client may initiate a contract review."
    )


def test_response_clause_and_tiers_in_words() -> None:
    clause = response(priorities=["P1", "P2"], credits=[{"below_percent": 90, "credit_percent": 5}])
    text = clause_words(contract(clause), contract(clause).clauses[0])
    assert text.startswith(
        "The Provider shall respond to at least 90% of P1 and P2 support tickets within 1 day"
    )
    assert text.endswith("Below 90%, a service credit of 5% of the monthly fee applies.")


def test_small_words() -> None:
    assert duration_words(timedelta(hours=26, minutes=5)) == "1 day 2 hours 5 minutes"
    assert period_label("2026-03") == "March 2026"
