"""The tools' wing: the demo, the simulator, replay, read-outs, bench, chaos and eval.

Tools drive the product from outside (produce to Kafka, start workers, read their
HTTP API, tables and the Redis queue). They may import every layer; no product
package imports them, and the CLI (`miroir/`) only parses arguments and calls them.
"""
