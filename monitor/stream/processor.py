"""One input partition's engine, made durable through a key-value store (a faust table).

Uptime and maintenance share a partition number (both keyed by service) but are separate
Kafka partitions read at different paces, so the engine's clock is the smallest of the
clocks of its sources (each the largest ``at`` read there, or the wall clock the idle rule
moved it to): reading one source ahead of the other never makes the other's events late.

Applied inputs are journalled in batches (``flush``) under rolling keys, and after every
``snapshot_every`` inputs the engine's state is saved with the journal batch it covers.
Recovery loads the snapshot and re-applies the journal after it. The driver acknowledges
an input to Kafka only once the batch holding it is written, so inputs applied but not yet
written are redelivered after a crash, and those already counted are known by event id.

No table value nears Kafka's message limit, whatever the inputs hold: the journal keeps an
event's fields the engine reads (extra fields, however large, are dropped: each entry is a
few KB at most), and a batch larger than ``JOURNAL_PART_BYTES`` is stored in parts.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import orjson

from monitor.contract import AvailabilityClause, Contract, UptimeClause
from monitor.engine import Engine, Outcome, Verdict
from monitor.engine.notices import DEFAULT_AT_RISK_BUDGET_PERCENT, Notice
from monitor.engine.results import ClauseResult, ClauseStatus
from monitor.engine.snapshot import export_state, restore_state
from monitor.events import (
    Event,
    InvalidEvent,
    MaintenanceEvent,
    RequestsEvent,
    StatusEvent,
    decode_event,
    event_json,
)
from monitor.stream.partitions import Stream, contracts_for, partition_of
from monitor.terms import Fingerprint, all_clauses, month_fingerprint
from monitor.terms_guard import TermsChanged, check_terms, refusal
from monitor.timeutil import EPOCH, ONE_MICROSECOND, span_us

DEFAULT_SNAPSHOT_EVERY = 2000
SNAPSHOT_CHUNK = 256 * 1024  # characters of base64 per table value
JOURNAL_PART_BYTES = 256 * 1024  # serialized journal entries per table value (one entry may pass it)


@dataclass(frozen=True)
class Handled:
    verdict: Verdict
    event: Event | None = None


class PartitionProcessor:
    def __init__(
        self,
        stream: Stream,
        partition: int,
        partitions: int,
        contracts: Sequence[Contract],
        allowed_lateness: timedelta,
        store: MutableMapping[str, Any],
        snapshot_every: int = DEFAULT_SNAPSHOT_EVERY,
        sources: Sequence[str] = ("events",),
        at_risk_budget_percent: Decimal = DEFAULT_AT_RISK_BUDGET_PERCENT,
    ) -> None:
        self.stream, self.partition, self.partitions = stream, partition, partitions
        self._all_contracts = {c.id: c for c in contracts}
        self._services = {
            c.service
            for contract in contracts
            for c in all_clauses(contract)
            if isinstance(c, UptimeClause | AvailabilityClause)
        }
        self._lateness = allowed_lateness
        self.engine = Engine(
            contracts_for(contracts, stream, partition, partitions),
            allowed_lateness,
            clocked_by_events=False,
            at_risk_budget_percent=at_risk_budget_percent,
        )
        self.clocks: dict[str, int | None] = dict.fromkeys(sources)
        self.offsets: dict[str, int] = {}  # the largest input offset applied, per source
        self._store = store
        self._snapshot_every = max(snapshot_every, 1)
        self._prefix = f"{stream.value}:{partition}:"
        self.seq = 0  # journal batches written
        self._covered_slots: set[int] = set()  # journal slots a snapshot made redundant
        self._slots_since_snapshot: set[int] = set()
        self._unwritten: list[dict[str, Any]] = []
        self._followed: dict[str, int] = {}  # sources moved by ``follow`` since the last flush
        self._since_snapshot = 0
        self._begun: dict[str, Fingerprint] = {}  # "contract/period" -> the terms it began under
        self.recover()
        # what was said before a crash may not have reached the notices topic: say it again
        self._restated = self.engine.recent_notices()
        self.engine.take_notices()

    # durable state -----------------------------------------------------------------
    def _journal_slot(self, seq: int) -> int:
        return seq % (2 * self._snapshot_every)

    def _journal_key(self, slot: int) -> str:
        return f"{self._prefix}journal:{slot}"

    def recover(self) -> None:
        """Rebuild the engine from the last snapshot and the journal entries after it."""
        snapshot = self._read_snapshot()
        covered = 0
        if snapshot is not None:
            self._check_terms(snapshot.get("terms", {}))
            restore_state(self.engine, snapshot["state"])
            self.clocks.update(snapshot["clocks"])
            self.offsets.update(snapshot.get("offsets", {}))
            covered = snapshot["seq"]
        self.seq = covered
        batches = []
        for slot in range(2 * self._snapshot_every):
            head = self._store.get(self._journal_key(slot))
            if head is None:
                continue
            if head["seq"] > covered:
                batches.append((head["seq"], self._read_batch(slot, head)))
                self._slots_since_snapshot.add(slot)
            else:
                self._covered_slots.add(slot)
        for seq, entries in sorted(batches, key=lambda batch: batch[0]):
            for entry in entries:
                self._replay(entry)
            self.seq = seq
            self._since_snapshot += len(entries)

    def _check_terms(self, begun: dict[str, Fingerprint]) -> None:
        """Refuse to go on from a state begun under other terms than the files now give."""
        months = {tuple(key.rsplit("/", 1)): fingerprint for key, fingerprint in begun.items()}
        check = check_terms(list(self._all_contracts.values()), months)  # type: ignore[arg-type]
        if not check.ok:
            raise TermsChanged(refusal(check))
        self._begun = dict(begun)

    def _replay(self, entry: dict[str, Any]) -> None:
        if "advance" in entry:
            self._move_clock(entry["source"], entry["advance"])
        else:
            self._apply(entry["source"], decode_event(entry["raw"]))
            self._note_offset(entry["source"], entry.get("offset"))

    def _journal(self, entry: dict[str, Any]) -> None:
        self._unwritten.append(entry)

    @property
    def unwritten(self) -> int:
        return len(self._unwritten)

    def flush(self) -> None:
        """Write the inputs applied since the last flush as one journal batch (and, now and
        then, a snapshot). Must run while the driver processes an input of this partition."""
        for source, clock_us in self._followed.items():
            self._journal({"source": source, "advance": clock_us})
        self._followed = {}
        if not self._unwritten:
            return
        self.seq += 1
        slot = self._journal_slot(self.seq)
        self._write_batch(slot, self._unwritten)
        self._slots_since_snapshot.add(slot)
        self._covered_slots.discard(slot)
        self._since_snapshot += len(self._unwritten)
        self._unwritten = []
        if self._since_snapshot >= self._snapshot_every:
            state = {
                "seq": self.seq,
                "clocks": dict(self.clocks),
                "offsets": dict(self.offsets),
                "terms": dict(self._begun),
                "state": export_state(self.engine),
            }
            self._write_snapshot(state)
            self._since_snapshot = 0
            self._covered_slots |= self._slots_since_snapshot
            self._slots_since_snapshot = set()
            self._drop_covered_journal()

    def _write_batch(self, slot: int, entries: list[dict[str, Any]]) -> None:
        """One journal batch in ``slot``: parts beyond the first under their own keys, then the
        head (the first part, the sequence number and the count of parts) last, so a crash
        mid-way leaves no head and the batch's inputs, never acknowledged, are read again."""
        parts = split_by_size(entries, JOURNAL_PART_BYTES - 64)  # room for the head's other fields
        for index, part in enumerate(parts[1:], start=1):
            self._store[f"{self._journal_key(slot)}:{index}"] = part
        head: dict[str, Any] = {"seq": self.seq, "entries": parts[0]}
        if len(parts) > 1:
            head["parts"] = len(parts)
        self._store[self._journal_key(slot)] = head

    def _read_batch(self, slot: int, head: dict[str, Any]) -> list[dict[str, Any]]:
        entries = list(head["entries"])
        for index in range(1, head.get("parts", 1)):
            entries += self._store[f"{self._journal_key(slot)}:{index}"]
        return entries

    def _drop_covered_journal(self) -> None:
        """Delete the journal batches the snapshot just written covers. Left in place they
        were never read again, but the table kept up to 2 x ``snapshot_every`` batches of raw
        events in memory: the worker's memory grew with the number of events until full.
        Parts are deleted until the first missing one (parts a crash left without a head too)."""
        for slot in self._covered_slots:
            key = self._journal_key(slot)
            if key in self._store:
                del self._store[key]
            index = 1
            while f"{key}:{index}" in self._store:
                del self._store[f"{key}:{index}"]
                index += 1
        self._covered_slots = set()

    def _write_snapshot(self, snapshot: dict[str, Any]) -> None:
        """Compressed, in chunks well under Kafka's 1 MB message limit, in two alternating
        generations: the pointer is written last, so a crash mid-way leaves the last whole one."""
        packed = base64.b64encode(zlib.compress(orjson.dumps(snapshot), 1)).decode()
        chunks = [packed[i : i + SNAPSHOT_CHUNK] for i in range(0, len(packed), SNAPSHOT_CHUNK)] or [""]
        pointer = self._store.get(f"{self._prefix}snapshot")
        generation = 1 - pointer["generation"] if pointer is not None else 0
        for index, chunk in enumerate(chunks):
            self._store[f"{self._prefix}snapshot:{generation}:{index}"] = chunk
        self._store[f"{self._prefix}snapshot"] = {"generation": generation, "chunks": len(chunks)}

    def _read_snapshot(self) -> dict[str, Any] | None:
        pointer = self._store.get(f"{self._prefix}snapshot")
        if pointer is None:
            return None
        generation = pointer["generation"]
        packed = "".join(
            self._store[f"{self._prefix}snapshot:{generation}:{i}"] for i in range(pointer["chunks"])
        )
        return orjson.loads(zlib.decompress(base64.b64decode(packed)))

    # input ---------------------------------------------------------------------------
    def handle(
        self,
        raw: bytes | str,
        source: str = "events",
        offset: int | None = None,
        not_after: int | None = None,
    ) -> Handled:
        """Decode and apply one input event; invalid, late, future and duplicate ones are not
        journalled.

        ``offset`` (the input's Kafka offset) tells a redelivered input from a late one: after a
        crash the inputs since the last offset commit are read again, and those older than the
        settled point would look late, though they were counted before (the engine no longer
        holds their ids). One at or before the largest offset applied is a duplicate.
        ``not_after`` (microseconds since the epoch) is the future-time bound: an event whose
        ``at`` is after it is refused as ``future`` and moves no clock.
        """
        try:
            event = decode_event(raw)
        except InvalidEvent as error:
            return Handled(Verdict(Outcome.INVALID, error.reason))
        misrouted = self._misrouted(event)
        if misrouted:
            return Handled(Verdict(Outcome.INVALID, misrouted), event)
        verdict = self._apply(source, event, not_after)
        if verdict.outcome is Outcome.APPLIED:
            entry: dict[str, Any] = {"source": source, "raw": event_json(event)}
            if offset is not None:
                entry["offset"] = offset
                self._note_offset(source, offset)
            self._journal(entry)
        elif verdict.outcome is Outcome.LATE and self._read_before(source, offset):
            verdict = Verdict(Outcome.DUPLICATE, "read again after a restart")
        return Handled(verdict, event)

    def _read_before(self, source: str, offset: int | None) -> bool:
        return offset is not None and offset <= self.offsets.get(source, -1)

    def _note_offset(self, source: str, offset: int | None) -> None:
        if offset is not None and offset > self.offsets.get(source, -1):
            self.offsets[source] = offset

    def _apply(self, source: str, event: Event, not_after: int | None = None) -> Verdict:
        verdict = self.engine.apply(event, not_after)
        if verdict.outcome is Outcome.APPLIED:
            self._move_clock(source, (event.at - EPOCH) // ONE_MICROSECOND)
        return verdict

    def _move_clock(self, source: str, instant: int) -> bool:
        """Move one source's clock forward; the engine follows the slowest source."""
        current = self.clocks.get(source)
        if current is not None and instant <= current:
            return False
        self.clocks[source] = instant
        known = [clock for clock in self.clocks.values() if clock is not None]
        if len(known) == len(self.clocks):
            self.engine.advance_to(min(known))
        return True

    def _misrouted(self, event: Event) -> str | None:
        if isinstance(event, StatusEvent | MaintenanceEvent | RequestsEvent):
            if self.stream is not Stream.UPTIME:
                return f"{event.type} event on the tickets topic"
            key = event.service
            if key not in self._services:
                return None  # no contract watches this service: valid, nothing to do
        else:
            if self.stream is not Stream.TICKETS:
                return "ticket event on an uptime or maintenance topic"
            key = event.contract
            if key not in self._all_contracts:
                return f"unknown contract {key!r}"
        if partition_of(key, self.partitions) != self.partition:
            return f"keyed to the wrong partition: the message key must be {key!r}"
        return None

    def advance(self, clock_us: int, source: str | None = None) -> bool:
        """Move a source's clock (all sources by default) forward: the idle rule. Journalled."""
        moved = False
        for name in [source] if source is not None else list(self.clocks):
            if self._move_clock(name, clock_us):
                self._journal({"source": name, "advance": clock_us})
                moved = True
        return moved

    def follow(self, clock_us: int, source: str) -> int:
        """Let a source with nothing to read follow another one's clock. Journalled once per
        batch (at ``flush``), not per event: replaying the batch's events before the move can
        only keep the clock lower, which never rejects an event that was applied. Returns how
        far the source's clock moved (microseconds; 0 if it did not, or had none yet)."""
        before = self.clocks.get(source)
        if not self._move_clock(source, clock_us):
            return 0
        self._followed[source] = clock_us
        return 0 if before is None else clock_us - before

    @property
    def lateness_us(self) -> int:
        """The allowed lateness: an event this much older than the clock is still counted."""
        return span_us(self._lateness)

    # output --------------------------------------------------------------------------
    def clause_results(self) -> list[ClauseResult]:
        """The clause results; the months they begin are noted with the terms they began under."""
        results = [r for r in self.engine.results() if isinstance(r, ClauseResult)]
        for result in results:
            key = f"{result.contract}/{result.period}"
            if key not in self._begun:
                contract = self._all_contracts[result.contract]
                self._begun[key] = month_fingerprint(contract, result.period)
        return results

    def clause_status(self) -> list[ClauseStatus]:
        return self.engine.clause_status()

    def take_notices(self) -> list[Notice]:
        """Notices established since the last call (after a recovery: every recent one again)."""
        restated, self._restated = self._restated, []
        return restated + self.engine.take_notices()


def split_by_size(entries: list[dict[str, Any]], budget_bytes: int) -> list[list[dict[str, Any]]]:
    """``entries`` in order, cut into parts whose JSON (as the table writes it) stays within
    ``budget_bytes``; an entry larger than the budget is a part of its own. Never empty."""
    parts: list[list[dict[str, Any]]] = [[]]
    size = 0
    for entry in entries:
        entry_bytes = len(orjson.dumps(entry)) + 1  # and its comma
        if parts[-1] and size + entry_bytes > budget_bytes:
            parts.append([])
            size = 0
        parts[-1].append(entry)
        size += entry_bytes
    return parts
