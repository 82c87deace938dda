"""The partition processors (the live driver, without Kafka) agree with replay and recover exactly."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from monitor.engine import Engine, Outcome
from monitor.engine.credits import contract_records
from monitor.engine.results import ClauseResult
from monitor.events import Event, MaintenanceEvent, StatusEvent, event_json
from monitor.stream.partitions import Stream, partition_of
from monitor.stream.processor import PartitionProcessor
from tests.test_properties import LATENESS, scenarios

PARTITIONS = 3


SOURCES = {Stream.UPTIME: ("uptime", "maintenance"), Stream.TICKETS: ("tickets",)}


def _route(event: Event) -> tuple[tuple[Stream, int], str]:
    """The processor and the source (topic) an event arrives from."""
    if isinstance(event, StatusEvent | MaintenanceEvent):
        source = "maintenance" if isinstance(event, MaintenanceEvent) else "uptime"
        return (Stream.UPTIME, partition_of(event.service, PARTITIONS)), source
    return (Stream.TICKETS, partition_of(event.contract, PARTITIONS)), "tickets"


def _raw(event: Event) -> bytes:
    return event_json(event).encode()


class ChangelogStore(dict):
    """A dict that keeps values as a changelog would: serialised when written."""

    def __setitem__(self, key, value):
        super().__setitem__(key, orjson.loads(orjson.dumps(value)))


class Worker:
    """Processors for every partition over one shared store, as a restartable worker would have."""

    def __init__(self, contracts, store, snapshot_every):
        self.args = (contracts, store, snapshot_every)
        self.processors = {
            (stream, p): PartitionProcessor(
                stream, p, PARTITIONS, contracts, LATENESS, store, snapshot_every, SOURCES[stream]
            )
            for stream in Stream
            for p in range(PARTITIONS)
        }

    def restarted(self) -> Worker:
        return Worker(*self.args)


def _clause_records(results) -> list[dict]:
    rows = [r.to_record() for r in results if isinstance(r, ClauseResult)]
    return sorted(rows, key=lambda r: (r["contract"], r["clause"], r["period"]))


@given(scenarios(), st.data())
def test_partitioned_processing_with_crashes_equals_replay(scenario, data):
    contracts, events = scenario  # in time order: nothing is late for any clock
    redelivered = list(events)
    if events:
        for index in data.draw(st.lists(st.integers(0, len(events) - 1), max_size=5)):
            # Kafka redelivers a record only after its first delivery: earlier copies would
            # reorder the stream and make later events late, which replay never sees
            first = next(i for i, event in enumerate(redelivered) if event is events[index])
            redelivered.insert(data.draw(st.integers(first + 1, len(redelivered))), events[index])
    crashes = set(data.draw(st.lists(st.integers(0, len(redelivered)), max_size=3)))
    flush_every = data.draw(st.sampled_from([1, 2, 7]))
    store = ChangelogStore()
    worker = Worker(contracts, store, snapshot_every=data.draw(st.sampled_from([1, 3, 1000])))
    unacked: list[Event] = []  # handled, but their journal batch is not written yet
    for position, event in enumerate(redelivered):
        if position in crashes:
            worker = worker.restarted()
            replayed, unacked = unacked, []
            for again in replayed:  # Kafka redelivers what was never acknowledged
                processor, source = _route(again)
                worker.processors[processor].handle(_raw(again), source)
                unacked.append(again)
        processor, source = _route(event)
        worker.processors[processor].handle(_raw(event), source)
        unacked.append(event)
        if position % flush_every == 0:
            for each in worker.processors.values():
                each.flush()
            unacked = []

    engine = Engine(contracts, LATENESS)
    for event in events:
        engine.apply(event)
    if engine.watermark is None:
        return
    clock = engine.watermark + data.draw(st.sampled_from([0, 3600, 86400 * 40])) * 1_000_000
    live = []
    for processor in worker.processors.values():
        processor.flush()
    for processor in worker.restarted().processors.values():
        processor.advance(clock)
        live.extend(processor.clause_results())
    assert _clause_records(live) == _clause_records(engine.results(clock))


@given(scenarios())
def test_contract_records_from_clause_records_equal_the_engines(scenario):
    """The ledger rebuilds contract records from clause records with the engine's own function."""
    contracts, events = scenario
    engine = Engine(contracts, LATENESS)
    for event in events:
        engine.apply(event)
    records = [r.to_record() for r in engine.results()]
    for contract in contracts:
        clause_rows = [r for r in records if r["record"] == "clause" and r["contract"] == contract.id]
        expected = [r for r in records if r["record"] == "contract" and r["contract"] == contract.id]
        assert contract_records(contract, clause_rows) == expected
        if clause_rows:  # without one of its clauses, no period of a contract is final
            missing_one = [r for r in clause_rows if r["clause"] != clause_rows[0]["clause"]]
            assert not any(r["final"] for r in contract_records(contract, missing_one))


def test_inputs_read_again_after_a_crash_are_duplicates_not_late():
    """After a crash Kafka redelivers everything since the last offset commit; inputs older
    than the settled point would look late (their ids are forgotten), but their offsets show
    they were counted. A really late input, at a new offset, is still late."""
    from datetime import UTC, datetime, timedelta

    from monitor.contract import Contract
    from tests.builders import contract, status, uptime

    acme: Contract = contract(uptime())
    store = ChangelogStore()
    sources = ("uptime", "maintenance")
    partition = partition_of("api", PARTITIONS)

    def processor() -> PartitionProcessor:
        return PartitionProcessor(
            Stream.UPTIME, partition, PARTITIONS, [acme], timedelta(hours=1), store, 1000, sources
        )

    lines = [status(f"2026-06-10T{hour:02d}:00:00Z", "up") for hour in range(12)]  # 11 h of events
    first = processor()
    end = 1_000_000 * int(datetime(2026, 6, 10, 11, tzinfo=UTC).timestamp())
    first.advance(end, source="maintenance")  # an empty source does not hold the clock back
    outcomes = [first.handle(line, "uptime", offset).verdict.outcome for offset, line in enumerate(lines)]
    assert set(outcomes) == {Outcome.APPLIED}
    first.flush()
    again = processor()  # recovered from the store, as a restarted worker
    assert again.handle(lines[0], "uptime").verdict.outcome is Outcome.LATE  # without its offset
    redelivered = [again.handle(line, "uptime", offset).verdict.outcome for offset, line in enumerate(lines)]
    assert redelivered[:10] == [Outcome.DUPLICATE] * 10  # older than 10:00: would have been late
    late = status("2026-06-10T02:30:00Z", "down")
    assert again.handle(late, "uptime", len(lines)).verdict.outcome is Outcome.LATE


def test_a_follow_says_how_far_it_moved_the_clock():
    """What the worker logs when a source follows another by more than the allowed lateness
    (its records dated before would be late): the distance the follower's clock moved."""
    from datetime import UTC, datetime, timedelta

    from tests.builders import contract, uptime

    partition = partition_of("api", PARTITIONS)
    processor = PartitionProcessor(
        Stream.UPTIME,
        partition,
        PARTITIONS,
        [contract(uptime())],
        timedelta(hours=1),
        ChangelogStore(),
        1000,
        ("uptime", "maintenance"),
    )
    hour_us = 3_600_000_000
    nine = 1_000_000 * int(datetime(2026, 10, 21, 9, tzinfo=UTC).timestamp())
    assert processor.lateness_us == hour_us
    assert processor.follow(nine, "uptime") == 0  # it had no clock: nothing to measure
    assert processor.follow(nine - hour_us, "uptime") == 0  # a clock never moves back
    assert processor.follow(nine + 14 * 24 * hour_us, "uptime") == 14 * 24 * hour_us  # 14 days
    assert processor.clocks["uptime"] == nine + 14 * 24 * hour_us


def api_processor(store: ChangelogStore, snapshot_every: int) -> PartitionProcessor:
    """The processor of the uptime partition of service ``api``, for a contract watching it."""
    from datetime import timedelta

    from tests.builders import contract, uptime

    partition = partition_of("api", PARTITIONS)
    acme = [contract(uptime())]
    return PartitionProcessor(
        Stream.UPTIME, partition, PARTITIONS, acme, timedelta(hours=1), store, snapshot_every, ("uptime",)
    )


def test_the_journal_keeps_only_what_the_last_snapshot_does_not_cover():
    """Memory must not grow with the number of events: journal batches a snapshot covers
    are deleted from the table, and a restarted processor still recovers every input."""
    from tests.builders import status

    store = ChangelogStore()
    snapshot_every = 5

    def processor() -> PartitionProcessor:
        return api_processor(store, snapshot_every)

    first = processor()
    lines = [
        status(f"2026-06-{1 + minute // 1440:02d}T{minute // 60 % 24:02d}:{minute % 60:02d}:00Z", "up")
        for minute in range(0, 3 * 1440, 7)
    ]
    for offset, line in enumerate(lines):
        assert first.handle(line, "uptime", offset).verdict.outcome is Outcome.APPLIED
        first.flush()  # one batch per input: the most batches a snapshot can cover
        journal = [key for key in store if ":journal:" in key]
        assert len(journal) < snapshot_every
    again = processor()
    assert _clause_records(again.clause_results()) == _clause_records(first.clause_results())
    assert again.offsets == first.offsets


def test_journal_values_stay_small_whatever_the_events_hold():
    """Events of 2 MB (a huge extra field, ids of 256 control characters, the most JSON per
    character) journal only the fields the engine reads, and a batch of them is stored in
    parts; a restarted processor recovers them all, and a snapshot deletes every part."""
    from monitor.stream.processor import JOURNAL_PART_BYTES

    store = ChangelogStore()
    snapshot_every = 500

    def processor() -> PartitionProcessor:
        return api_processor(store, snapshot_every)

    first = processor()
    padding = "x" * (2 * 1024 * 1024)
    for minute in range(300):
        event = {
            "event_id": f"{minute:03d}" + "\x01" * 253,  # 256 characters, the most an id may have
            "type": "status",
            "service": "api",
            "status": "down" if minute % 7 == 0 else "up",
            "at": f"2026-06-01T{minute // 60:02d}:{minute % 60:02d}:00Z",
            "padding": padding,
        }
        assert first.handle(orjson.dumps(event), "uptime", minute).verdict.outcome is Outcome.APPLIED
    first.flush()  # 300 entries of about 1.8 KB each: more than one part
    values = {key: len(orjson.dumps(value)) for key, value in store.items()}
    assert max(values.values()) <= JOURNAL_PART_BYTES
    assert sum(":journal:" in key for key in values) > 1
    again = processor()
    assert _clause_records(again.clause_results()) == _clause_records(first.clause_results())
    assert again.offsets == first.offsets == {"uptime": 299}

    late = [f"2026-06-01T{5 + minute // 60:02d}:{minute % 60:02d}:00Z" for minute in range(200)]
    for offset, at in enumerate(late, start=300):  # past snapshot_every: a snapshot covers it all
        line = orjson.dumps({"event_id": at, "type": "status", "service": "api", "status": "up", "at": at})
        again.handle(line, "uptime", offset)
    again.flush()
    assert not [key for key in store if ":journal:" in key]


@given(
    st.lists(st.dictionaries(st.text(max_size=3), st.text(max_size=300), max_size=3), max_size=40),
    st.integers(1, 2000),
)
def test_split_by_size_keeps_order_and_the_budget(entries, budget):
    from monitor.stream.processor import split_by_size

    parts = split_by_size(entries, budget)
    assert [entry for part in parts for entry in part] == entries
    assert parts and all(part for part in parts[1:])
    for part in parts:
        assert len(part) == 1 or len(orjson.dumps(part)) <= budget + 1  # the closing bracket
