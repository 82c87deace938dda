"""``slamon ingest`` and ``slamon import prometheus`` (SPEC.md section 13): data from the tools
operations teams already run, turned into SPEC events on the input topics. Nothing here computes
an SLA figure: events are decoded by ``monitor.events`` and produced by ``monitor.produce``."""
