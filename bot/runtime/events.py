"""Live events: tell the open streams of every server that something changed, within a second.

An event is a hint, never the data: a shopper's stream that hears "conversation X changed"
reads the new messages from the database as it always did, so an event lost on the way
costs a delay, never a message. Topics:

- ``conversation:<session id>``: a message was added (an agent's reply, a resolution
  notice, a bot reply) -> the shopper's stream (GET /api/conversations/{id}/events);
- ``queue``: a ticket was opened, claimed, released, resolved or got a new message
  (``{"ticket_id", "what"}``) -> the agents' consoles (GET /api/agent/events).

Every process delivers its own events to its own subscribers at once. With FAQBOT_REDIS_URL
they also go out on one Redis channel, which a thread in every process listens to, so a
reply sent through server A reaches a stream held open by server B. Without Redis, or while
it is down, streams poll the database every second as before (:attr:`EventBus.poll_seconds`);
while it is up they still look every few seconds, in case a hint was lost.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import redis

from bot.runtime.redis_link import RedisDown, RedisLink

log = logging.getLogger(__name__)

# How often a stream reads the database when no event can reach it from other servers.
POLL_SECONDS = 1.0
# How often it still looks while events flow: a safety net for a hint lost in an outage.
SAFETY_POLL_SECONDS = 5.0
# Events kept for a slow subscriber; beyond that it is told to read everything again.
BACKLOG = 100
RESYNC = "resync"


@dataclass(frozen=True)
class Event:
    """Something changed: ``topic`` says what, ``data`` a few ids (never message text)."""

    topic: str
    data: dict[str, Any] = field(default_factory=dict)


class Subscription:
    """Events of one topic for one stream, waited for on the stream's event loop."""

    def __init__(self, topic: str, loop: asyncio.AbstractEventLoop) -> None:
        self.topic = topic
        self.loop = loop
        self._items: deque[Event] = deque()
        self._ready = asyncio.Event()

    def deliver(self, event: Event) -> None:
        """Queue ``event`` (from any thread); a full backlog becomes one resync event."""
        with suppress(RuntimeError):  # the stream's loop has closed: nobody is listening
            self.loop.call_soon_threadsafe(self._put, event)

    def _put(self, event: Event) -> None:
        if len(self._items) >= BACKLOG:
            self._items.clear()
            event = Event(RESYNC)
        self._items.append(event)
        self._ready.set()

    async def next(self, timeout: float) -> list[Event]:
        """Return the events that arrived, waiting up to ``timeout`` s for one ([] if none)."""
        if not self._items:
            try:
                await asyncio.wait_for(self._ready.wait(), timeout)
            except TimeoutError:
                return []
        self._ready.clear()
        items = list(self._items)
        self._items.clear()
        return items


class EventBus:
    """Publish events to this process's subscribers and, through Redis, to every server's."""

    def __init__(self, link: RedisLink | None = None) -> None:
        self.link = link
        self.channel = link.key("events") if link else ""
        self.origin = uuid.uuid4().hex  # our own messages come back from Redis: skip them
        self._subs: dict[str, set[Subscription]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._live = False

    @property
    def live(self) -> bool:
        """Tell whether events from other servers reach this process now."""
        return self._live

    @property
    def poll_seconds(self) -> float:
        """Return how long a stream may wait for an event before it reads the database."""
        return SAFETY_POLL_SECONDS if self._live else POLL_SECONDS

    # ---- publishing ----
    def publish(self, topic: str, **data: Any) -> None:
        """Tell every subscriber of ``topic``, here and on every server; never raises."""
        event = Event(topic, data)
        self._deliver(event)
        if self.link is None:
            return
        payload = json.dumps({"o": self.origin, "t": topic, "d": data}, default=str)
        # Logged once by the link when it fails; other servers' streams poll meanwhile.
        with suppress(RedisDown):
            self.link.run(lambda r: r.publish(self.channel, payload))

    def _deliver(self, event: Event) -> None:
        with self._lock:
            subs = list(self._subs.get(event.topic, ()))
        for sub in subs:
            sub.deliver(event)

    def _deliver_everyone(self, event: Event) -> None:
        with self._lock:
            subs = [s for group in self._subs.values() for s in group]
        for sub in subs:
            sub.deliver(event)

    # ---- subscribing ----
    def open(self, topic: str) -> Subscription:
        """Start receiving ``topic``'s events on the running event loop; :meth:`close` it."""
        sub = Subscription(topic, asyncio.get_running_loop())
        with self._lock:
            self._subs.setdefault(topic, set()).add(sub)
        return sub

    def close(self, sub: Subscription) -> None:
        """Stop delivering to ``sub``."""
        with self._lock:
            group = self._subs.get(sub.topic)
            if group is not None:
                group.discard(sub)
                if not group:
                    del self._subs[sub.topic]

    @contextmanager
    def subscribe(self, topic: str) -> Iterator[Subscription]:
        """Receive ``topic``'s events on the running event loop until the block ends."""
        sub = self.open(topic)
        try:
            yield sub
        finally:
            self.close(sub)

    def subscribers(self) -> int:
        """Count the open subscriptions of this process."""
        with self._lock:
            return sum(len(group) for group in self._subs.values())

    # ---- the Redis listener ----
    def start(self) -> None:
        """Start listening to the other servers' events (with Redis; else nothing to do)."""
        if self.link is None or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._listen, name="faqbot-events", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        """Stop listening."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._live = False

    def _listen(self) -> None:
        assert self.link is not None
        pause = 0.5
        while not self._stop.is_set():
            pubsub = self.link.client.pubsub(  # type: ignore[no-untyped-call]  # redis-py
                ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self.channel)
                self._live = True
                self.link.succeeded()
                pause = 0.5
                # Events published while we were away were missed: everyone reads again.
                self._deliver_everyone(Event(RESYNC))
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self._receive(message["data"])
            except (redis.RedisError, OSError) as exc:
                if self._live:
                    self._live = False
                    self._deliver_everyone(Event(RESYNC))  # poll from now on
                self.link.failed(exc)
                self._stop.wait(pause)
                pause = min(pause * 2, 5.0)
            finally:
                self._live = False
                with suppress(redis.RedisError, OSError):
                    pubsub.close()

    def _receive(self, raw: bytes | str) -> None:
        try:
            body = json.loads(raw)
            if body.get("o") == self.origin:
                return
            event = Event(str(body["t"]), dict(body.get("d") or {}))
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("ignored a malformed event on %s", self.channel)
            return
        self._deliver(event)
