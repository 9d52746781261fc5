"""How many server-sent event streams one process holds open: per address, per conversation,
and in all.

Each open stream costs a connection, a task and a database read per poll interval. Issue 14
measured 1,000 streams from one address, with no key, pushing the median chat answer of the
same process from 10 to 107 ms. A stream takes a slot here before it starts and gives it back
when it ends, however it ends; a stream over a cap is refused at once with the reason.

The counts are this process's own (a worker's), with or without Redis: streams are held by
the process that accepted them, and a count shared between processes would outlive a worker
that was killed. Over the address or conversation cap: 429 (the client holds too many); over
the process's total: 503 (this server is full; another may not be).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from bot.errors import RateLimited, ServiceBusy

# A browser tab that reconnects after its stream closed waits this long before trying again.
RETRY_SECONDS = 5


@dataclass
class StreamSlot:
    """One open stream's place; ``release()`` gives it back (once, however often called)."""

    gate: StreamGate
    address: str
    conversation: str | None
    _released: bool = field(default=False, repr=False)

    def release(self) -> None:
        """Give the slot back."""
        self.gate._release(self)


class StreamGate:
    """Caps the event streams one process holds: per address, per conversation, in all."""

    def __init__(self, per_address: int, per_conversation: int, total: int) -> None:
        for name, value in (("per address", per_address),
                            ("per conversation", per_conversation), ("in all", total)):
            if value < 1:
                raise ValueError(f"the cap of event streams {name} must be at least 1, "
                                 f"got {value}")
        self.per_address, self.per_conversation, self.total = (
            per_address, per_conversation, total)
        self._lock = threading.Lock()
        self._addresses: Counter[str] = Counter()
        self._conversations: Counter[str] = Counter()
        self._open = 0

    @property
    def open(self) -> int:
        """Return how many streams are open now."""
        return self._open

    def take(self, address: str, conversation: str | None = None) -> StreamSlot:
        """Take a slot for a new stream, or raise RateLimited (429) / ServiceBusy (503)."""
        with self._lock:
            if self._addresses[address] >= self.per_address:
                raise RateLimited(
                    f"too many open event streams from this address: the limit is "
                    f"{self.per_address}; close one or poll the messages instead",
                    RETRY_SECONDS)
            if conversation is not None and \
                    self._conversations[conversation] >= self.per_conversation:
                raise RateLimited(
                    f"too many open event streams of this conversation: the limit is "
                    f"{self.per_conversation}; close one or poll the messages instead",
                    RETRY_SECONDS)
            if self._open >= self.total:
                raise ServiceBusy(
                    f"this server holds its limit of {self.total} event streams; poll the "
                    "messages instead, or try again later", RETRY_SECONDS)
            self._open += 1
            self._addresses[address] += 1
            if conversation is not None:
                self._conversations[conversation] += 1
            return StreamSlot(self, address, conversation)

    def _release(self, slot: StreamSlot) -> None:
        with self._lock:
            if slot._released:
                return
            slot._released = True
            self._open -= 1
            _drop(self._addresses, slot.address)
            if slot.conversation is not None:
                _drop(self._conversations, slot.conversation)


def _drop(counts: Counter[str], key: str) -> None:
    counts[key] -= 1
    if counts[key] <= 0:
        del counts[key]  # an address that closed its streams costs no memory
