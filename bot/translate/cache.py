"""A cache of machine translations shown to agents, so a transcript is translated once."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

from bot.errors import TranslationError
from bot.translate.translator import Translator

log = logging.getLogger(__name__)


class TranslationCache:
    """Remember translations shown to agents so a transcript is translated once."""

    def __init__(self, translator: Translator, size: int = 4096) -> None:
        self.translator = translator
        self.size = size
        self._items: OrderedDict[tuple[str, str, str], str | None] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str, source: str | None, target: str) -> str | None:
        """Return ``text`` in ``target``, or None when it is already or cannot be."""
        if not source or source == target or not text:
            return None
        key = (text, source, target)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        try:
            out: str | None = self.translator.translate(text, source, target)
        except TranslationError:
            out = None
        except Exception as exc:  # a broken pack must not break the agent console
            log.warning("translation %s->%s failed: %s", source, target, exc)
            out = None
        with self._lock:
            self._items[key] = out
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return out
