"""Fault scenarios on the real stack, each compared with an uninterrupted run of the same replay.

A seeded replay (the synthetic pilot with a share of bad inputs, and a share
of records sent again with their key: duplicates) is produced once to input
topics of its own. Each scenario starts fresh workers (their own
app id, callback-requests topic and Redis database) that read it from the
start, does its damage while they work through the backlog (the harshest
moment: the most work in flight), waits until the groups have committed all
they read, then reads what the pipeline kept (its tables' changelogs and the
Redis queue) and compares it with the reference run:

- lost: inputs never counted, verbatims missing from the windows, callback
  requests the queue never saw;
- duplicated: verbatims counted twice, a callback queued twice, a customer with
  two open callbacks;
- redelivered: callback requests sent again after a fault (at-least-once at work;
  the idempotent queue admits each once);
- reconciled: in = processed + dead-lettered + duplicate = what was sent, with
  as many duplicates as the reference counted (a copy stays a copy, a first
  copy read again after a kill stays processed);
- recovery: from the restart (the kill, with two workers; the broker or Redis
  started again) until the pipeline counts new inputs again.
"""

from tools.chaos.compare import Outcome
from tools.chaos.options import SCENARIOS, ChaosError, ChaosOptions
from tools.chaos.reporting import chaos_table, notify_table, report
from tools.chaos.scenarios import run_chaos

__all__ = ["SCENARIOS", "ChaosError", "ChaosOptions", "Outcome", "chaos_table", "notify_table", "report", "run_chaos"]
