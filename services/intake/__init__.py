"""The intake: survey tools and people send answers over HTTP; each accepted record is in Kafka.

`miroir intake serve` runs `services.intake.app.create_app()` on uvicorn. See README,
"Sending answers to Miroir".
"""

# Where each input kind is posted (config.topics.INPUT_KINDS): one object, or a JSON array of them.
PATHS = {"survey": "/v1/survey-responses", "staff": "/v1/staff-feedback"}
