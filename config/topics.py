"""Every Kafka topic (and consumer group) name of Miroir: the only place they are spelled.

The topics other systems read or write take their names from the settings
(`MIROIR_SURVEY_TOPIC`, ...): a pilot, a chaos run or a shared cluster may
rename them, and every producer and consumer follows. Internal names (the
journey deltas, the tables' changelogs, the callback sink's group) carry the
app id, as faust names its own, so that two pilots never share state.
"""

from __future__ import annotations

from dataclasses import dataclass

# Defaults of the public topics; `PipelineSettings` reads overrides from the environment.
SURVEY_RESPONSES = "survey-responses"
STAFF_FEEDBACK = "staff-feedback"
MIRROR_STATES = "mirror-states"
STEP_ALERTS = "step-alerts"
CALLBACK_REQUESTS = "callback-requests"
CALLBACK_OUTCOMES = "callback-outcomes"
DEAD_LETTERS = "dead-letters"
# Each dead letter's reason and where it came from, without its bytes: kept long after dead-letters'
# short retention has removed the original (privacy, README "Your data").
DEAD_LETTER_LOG = "dead-letter-log"

# The kinds of input a producer sends ("survey", "staff"), as the CLI and the replay name them.
INPUT_KINDS = ("survey", "staff")


@dataclass(frozen=True)
class Topics:
    """The topic names one app id works with."""

    app_id: str
    survey_responses: str = SURVEY_RESPONSES
    staff_feedback: str = STAFF_FEEDBACK
    mirror_states: str = MIRROR_STATES
    step_alerts: str = STEP_ALERTS
    callback_requests: str = CALLBACK_REQUESTS
    callback_outcomes: str = CALLBACK_OUTCOMES
    dead_letters: str = DEAD_LETTERS
    dead_letter_log: str = DEAD_LETTER_LOG

    def public(self) -> list[str]:
        """The topics `miroir stack up` / `miroir topics create` create (faust creates its own)."""
        return [
            self.survey_responses,
            self.staff_feedback,
            self.mirror_states,
            self.step_alerts,
            self.callback_requests,
            self.callback_outcomes,
            self.dead_letters,
            self.dead_letter_log,
        ]

    def inputs(self) -> tuple[str, str]:
        return self.survey_responses, self.staff_feedback

    def of_kind(self, kind: str) -> str:
        """The input topic of 'survey' or 'staff'."""
        if kind not in INPUT_KINDS:
            raise ValueError(f"unknown input kind {kind!r}; expected one of {', '.join(INPUT_KINDS)}")
        return self.survey_responses if kind == "survey" else self.staff_feedback

    @property
    def journey_deltas(self) -> str:
        """Internal: one message per journey per analysed batch, keyed by journey."""
        return f"{self.app_id}-journey-deltas"

    @property
    def callback_sink_group(self) -> str:
        """The callback sink's own consumer group (not faust's: see streams/callbacks.py)."""
        return f"{self.app_id}-callbacks"

    def changelog(self, table: str) -> str:
        """The changelog topic faust keeps for `table`."""
        return f"{self.app_id}-{table}-changelog"
