"""The pipeline's tables (changelogged to Kafka, recovered on restart)."""

from streams.app import app

# journey id -> JourneyTally.to_dict(): window buckets, evidence, last classification.
journey_to_tally = app.Table("journey_to_tally", default=dict)

# "in", "processed", "untagged", "dead:<reason>" -> count. The analysis agents
# send their batch's counts through the journey-deltas topic under one key, so
# one partition (and one worker) owns them all.
counter_to_count = app.Table("counter_to_count", default=int)

# "<site>|<step>" -> {"resolved", "within_sla", "durations": [seconds, latest last]}
site_step_to_loop = app.Table("site_step_to_loop", default=dict)
