"""The live stream processor: the engine driven by faust-streaming on Kafka."""
