"""CPU time per event of the worker's input agent without a broker, against the engine path alone.

    python bench/input_agent_cpu.py [--events 40000]

Both figures are process CPU time (not wall time), so a loaded machine moves them less than
the rates of ``worker_throughput.py``; run it on two checkouts back to back to compare them.

- the input agent: the bench's heartbeats put one by one into the `slamon-inputs` agent of a
  worker without a broker (``tests/test_input_fuzz.py``'s harness: every partition assigned and
  read to its end, changelog writes left in faust's buffer): faust's stream, the agent's
  bookkeeping (positions, caught-up sources following, batches, acknowledgements), decoding,
  the engine, the journal;
- the baseline: the engine path alone on the same events (``PartitionProcessor.handle`` and
  ``flush`` into a dict, every 200 events), what no change to the agent can take away.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.worker_throughput import heartbeats  # noqa: E402
from monitor.loader import load_contracts  # noqa: E402
from monitor.settings import DEFAULT_CONTRACTS, Settings  # noqa: E402
from monitor.stream.inputs import JOURNAL_BATCH, input_streams  # noqa: E402
from monitor.stream.partitions import Stream, partition_of  # noqa: E402
from monitor.stream.processor import PartitionProcessor  # noqa: E402
from tests.test_input_fuzz import PARTITIONS, Record, brokerless_worker  # noqa: E402

WARM_UP = 2000


def agent_us_per_event(raws: list[bytes]) -> float:
    with brokerless_worker(Path(tempfile.mkdtemp(prefix="slamon-agent-cpu-"))) as harness:
        uptime = harness.topics[0]
        records = []
        for raw in raws:
            service = orjson.loads(raw)["service"]
            records.append(Record(uptime, partition_of(service, PARTITIONS), service.encode(), raw))
        harness.loop.run_until_complete(harness.feed(records[:WARM_UP]))
        started = time.process_time()
        harness.loop.run_until_complete(harness.feed(records[WARM_UP:]))
        return (time.process_time() - started) / (len(records) - WARM_UP) * 1e6


def engine_us_per_event(raws: list[bytes]) -> float:
    settings = Settings(partitions=PARTITIONS)
    contracts = load_contracts(DEFAULT_CONTRACTS).contracts
    topic = settings.topics.uptime
    sources = [name for name, stream in input_streams(settings.topics).items() if stream is Stream.UPTIME]
    store: dict[str, object] = {}
    processors: dict[int, PartitionProcessor] = {}
    started = time.process_time()
    for offset, raw in enumerate(raws):
        partition = partition_of(orjson.loads(raw)["service"], PARTITIONS)
        processor = processors.get(partition)
        if processor is None:
            processor = processors[partition] = PartitionProcessor(
                Stream.UPTIME,
                partition,
                PARTITIONS,
                contracts,
                settings.allowed_lateness,
                store,
                sources=sources,
            )
        processor.handle(raw, source=topic, offset=offset)
        processor.take_notices()
        if processor.unwritten >= JOURNAL_BATCH:
            processor.flush()
    for processor in processors.values():
        processor.flush()
    return (time.process_time() - started) / len(raws) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=40_000)
    args = parser.parse_args()
    raws = heartbeats(args.events)
    engine = engine_us_per_event(raws)
    agent = agent_us_per_event(raws)
    print(f"load average: {' '.join(f'{load:.1f}' for load in os.getloadavg())}")
    print(f"engine path alone (handle + flush): {engine:6.1f} us CPU/event")
    print(f"input agent, no broker            : {agent:6.1f} us CPU/event")
    print(f"engine share of the agent         : {engine / agent:.3f}")


if __name__ == "__main__":
    main()
