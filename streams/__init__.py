"""The Faust app, its topics and agents: the wiring of `processors/` to Kafka."""
