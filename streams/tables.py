"""The pipeline's tables (changelogged to Kafka, recovered on restart)."""

from streams.app import app

# journey id -> JourneyTally.to_dict(): window buckets, evidence, last classification.
journey_to_tally = app.Table("journey_to_tally", default=dict)

# "<counter>|<topic>:<partition>" -> count; summed when read. Written once per
# batch (outside any one event), so its changelog partition comes from the key.
counter_to_count = app.Table("counter_to_count", default=int, use_partitioner=True)
