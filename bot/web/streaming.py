"""A server-sent event response that holds a stream slot (bot/runtime/streams.py) while open."""

from __future__ import annotations

from collections.abc import AsyncIterable

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from bot.runtime.streams import StreamSlot

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class SlotStream(StreamingResponse):
    """``text/event-stream`` that gives its slot back when the response ends, however it ends.

    Released here rather than in the generator's ``finally``: a client gone before the first
    byte leaves a generator that never started, whose ``finally`` never runs.
    """

    def __init__(self, body: AsyncIterable[str], slot: StreamSlot) -> None:
        super().__init__(body, media_type="text/event-stream", headers=SSE_HEADERS)
        self.slot = slot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.slot.release()
