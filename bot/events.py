"""A small typed observer: a service says what happened, subscribers wired at start listen.

Services (``ChatService.replied``, ``FaqBot.reloaded``) own an :class:`Event` and call
:meth:`Event.emit`; what listens (Prometheus metrics, say) subscribes where the app is put
together (bot/web/app.py), so no module reaches into another's objects to be told.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class Event(Generic[T]):
    """Listeners called, in order of subscription, with each value emitted."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._listeners: tuple[Callable[[T], None], ...] = ()
        self._lock = threading.Lock()

    def subscribe(self, listener: Callable[[T], None]) -> Callable[[], None]:
        """Call ``listener`` on every emit from now on; return a function that stops that."""
        with self._lock:
            self._listeners = (*self._listeners, listener)

        def unsubscribe() -> None:
            with self._lock:
                self._listeners = tuple(x for x in self._listeners if x is not listener)

        return unsubscribe

    def emit(self, value: T) -> None:
        """Call every listener with ``value``; a failing listener is logged, never raised."""
        for listener in self._listeners:  # a tuple: subscribing meanwhile cannot disturb this
            try:
                listener(value)
            except Exception:  # what listens (metrics ...) must never break the service
                log.exception("a listener of %s failed", self.name)
