"""Which clauses live on which input partition.

Uptime and maintenance events are keyed by service, tickets by contract (SPEC.md section 3),
so a clause's state lives on the partition its key hashes to, with Kafka's default partitioner.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from aiokafka.partitioner import murmur2

from monitor.contract import AvailabilityClause, Clause, Contract, ResponseTimeClause, UptimeClause


class Stream(StrEnum):
    """Input topics sharing one clock per partition: uptime with maintenance and requests (all
    keyed by service, so co-partitioned), and tickets."""

    UPTIME = "uptime"
    TICKETS = "tickets"


PartitionKey = tuple[Stream, int]  # one engine: a stream and its partition number


def partition_of(key: str, partitions: int) -> int:
    """The partition Kafka's default (murmur2) partitioner gives this key."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def contracts_for(
    contracts: Sequence[Contract], stream: Stream, partition: int, partitions: int
) -> list[Contract]:
    """The contracts cut down to the clauses whose events arrive on this stream's partition
    (in the base terms and in each amendment that replaces the clauses)."""

    def here(clause: Clause, contract: Contract) -> bool:
        if stream is Stream.UPTIME:
            return (
                isinstance(clause, UptimeClause | AvailabilityClause)
                and partition_of(clause.service, partitions) == partition
            )
        return isinstance(clause, ResponseTimeClause) and partition_of(contract.id, partitions) == partition

    chosen = []
    for contract in contracts:
        clauses = [c for c in contract.clauses if here(c, contract)]
        amendments = [
            a.model_copy(update={"clauses": [c for c in a.clauses if here(c, contract)]}) if a.clauses else a
            for a in contract.amendments
        ]
        if clauses or any(a.clauses for a in amendments):
            chosen.append(contract.model_copy(update={"clauses": clauses, "amendments": amendments}))
    return chosen
