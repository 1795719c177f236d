"""`miroir bench`: how fast and how lean Miroir is, each figure beside a baseline of the same run.

Every measurement runs on the real local stack. The same N pre-produced Avro
survey events feed the ceiling (a plain aiokafka consumer that only decodes),
the framework floor (a bare faust agent that only decodes) and the pipeline
(a real worker); completion is read from counters, never from sleeps.
"""

from tools.bench.reporting import report
from tools.bench.run import BenchOptions, run_bench

__all__ = ["BenchOptions", "report", "run_bench"]
