"""HTTP services that keep answering while the workers rebalance, each its own process and ASGI app.

They import `config`, `schemas`, `processors` and `sinks`, never `streams` or `tools`.
"""
