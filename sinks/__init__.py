"""Where Miroir writes outside Kafka: the Redis callback queue and Grafana."""
