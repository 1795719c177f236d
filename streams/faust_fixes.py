"""Two fixes to faust-streaming 0.15's consumer, applied when the app is created.

Both lost inputs around a rebalance, as `miroir chaos` showed (two workers
started together: the first batches of every partition never counted).

1. Faust drops the messages a stream was about to take when they were fetched
   in an earlier consumer generation, or arrive while flow control is off, and
   *acknowledges* them "so that the lag does not grow"; acknowledged, their
   offsets get committed, and the next owner of the partition starts after
   them. Here a message counts as acknowledged only if a stream took it (faust
   marks it `tracked` then, after the point where it drops stale ones).
2. After a rebalance faust seeks every partition back to its committed offset,
   so that what it dropped is read again. A partition with no commit yet (the
   first seconds of a new group) is not moved: it goes on from where the
   fetcher was, past the dropped messages. Here such partitions go back to the
   beginning, where the group started (with `auto_offset_reset=earliest`).

Either way a message may now be read twice; the pipeline is at-least-once and
its sinks are idempotent.
"""

from __future__ import annotations

from aiokafka.structs import TopicPartition
from faust.transport.consumer import Consumer
from faust.types import Message

_ack = Consumer.ack
_perform_seek = Consumer.perform_seek


def ack_only_what_a_stream_took(self: Consumer, message: Message) -> bool:
    if not message.tracked:
        return False
    return _ack(self, message)


async def seek_back_also_where_nothing_was_committed(self: Consumer) -> None:
    await _perform_seek(self)
    if self.app.conf.consumer_auto_offset_reset != "earliest":
        return
    never_committed = [
        tp for tp in self.assignment() if not self._is_changelog_tp(tp) and not self._committed_offset.get(tp)
    ]
    if never_committed:
        await self._thread.seek_to_beginning(  # type: ignore[attr-defined]
            *(TopicPartition(tp.topic, tp.partition) for tp in never_committed)
        )
        for tp in never_committed:
            self._read_offset[tp] = None  # else faust drops what it reads again as already read


def apply() -> None:
    Consumer.ack = ack_only_what_a_stream_took  # type: ignore[method-assign]
    Consumer.perform_seek = seek_back_also_where_nothing_was_committed  # type: ignore[method-assign]
