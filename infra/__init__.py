"""Starts the real services (Apache Kafka in KRaft mode, Redis) for the local stack."""
