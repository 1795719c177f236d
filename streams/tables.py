"""The pipeline's tables (changelogged to Kafka, recovered on restart)."""

from streams.app import app

# journey id -> JourneyTally.to_dict(): window buckets, evidence, last classification.
journey_to_tally = app.Table("journey_to_tally", default=dict)

# INPUTS_KEY -> {"counts": {"in", "processed", "untagged", "dead:<reason>": n},
# "counted": {"<topic:partition>": offsets counted, as ranges}}: one value, so that
# counts and offsets change in one write. The analysis agents send their batch's
# inputs through the journey-deltas topic under one key, so one partition (and
# one worker) owns them all.
INPUTS_KEY = "inputs"
input_counts = app.Table("input_counts", default=dict)

# "<site>|<step>" -> {"resolved", "within_sla", "durations": [seconds, latest last]}
site_step_to_loop = app.Table("site_step_to_loop", default=dict)
