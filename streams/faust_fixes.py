"""Fixes to faust-streaming 0.15's consumer bookkeeping, applied when the app is created.

Each lost inputs around a rebalance, as `miroir chaos` showed (two workers
started together, one of two killed: an offset never counted, or a partition
left uncommitted for minutes).

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
3. Faust keeps a "read offset" per partition and drops any message below it as
   already read. A batch fetched before a rebalance's seek but handed out after
   it moves that offset ahead of the committed one, so the messages read again
   from the committed offset are dropped, never acknowledged; and faust marks
   the offsets between the committed one and the batch as a "gap" to commit
   over. Here no read offset is kept: every message fetched reaches the
   stream, and a copy is absorbed downstream (each sighting carries its
   partition and offset).
4. Faust commits past one unacknowledged message at the committed offset (its
   head check is off by one: faust-streaming/faust#606). Here nothing is
   committed until the message at the committed offset is acknowledged.
   Miroir's input topics are written without transactions and never
   compacted, so their offsets have no holes that would hold a commit back.

Either way a message may now be read twice; the pipeline is at-least-once and
its sinks are idempotent.
"""

from __future__ import annotations

from typing import Any

from aiokafka.structs import TopicPartition
from faust.transport.consumer import Consumer
from faust.types import TP, Message

_init = Consumer.__init__
_ack = Consumer.ack
_perform_seek = Consumer.perform_seek
_new_offset = Consumer._new_offset


class _NoReadOffsets(dict[TP, int | None]):
    """Faust's read offsets, never kept (3): every lookup says "nothing read yet"."""

    def __getitem__(self, tp: TP) -> None:
        return None

    def __setitem__(self, tp: TP, offset: int | None) -> None:
        pass


def init_without_read_offsets(self: Consumer, *args: Any, **kwargs: Any) -> None:
    _init(self, *args, **kwargs)
    self._read_offset = _NoReadOffsets()


def ack_only_what_a_stream_took(self: Consumer, message: Message) -> bool:
    if not message.tracked:
        return False
    acked = _ack(self, message)
    # A copy of an offset already acknowledged (or committed) is not counted again, but it is no
    # longer in flight either: faust would keep it "unacked" and wait for it at every rebalance.
    self._unacked_messages.discard(message)
    return acked


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


def commit_from_the_committed_offset_only(self: Consumer, tp: TP) -> int | None:
    acked, committed = self._acked[tp], self._committed_offset[tp]
    if acked and committed is not None and min(acked) > committed:
        return None  # the message at the committed offset is still in flight, or will be read again
    result: int | None = _new_offset(self, tp)
    return result


def apply() -> None:
    Consumer.__init__ = init_without_read_offsets  # type: ignore[method-assign]
    Consumer.ack = ack_only_what_a_stream_took  # type: ignore[method-assign]
    Consumer.perform_seek = seek_back_also_where_nothing_was_committed  # type: ignore[method-assign]
    Consumer._new_offset = commit_from_the_committed_offset_only  # type: ignore[method-assign]
