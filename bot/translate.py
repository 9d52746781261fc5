"""Translation at the edges (placeholder until the argostranslate backend lands)."""

from __future__ import annotations

from typing import Protocol

from bot.errors import TranslationError


class Translator(Protocol):
    def translate(self, text: str, source: str, target: str) -> str: ...

    def pairs(self) -> set[tuple[str, str]]: ...


class NullTranslator:
    """Translates nothing: every pair but identity is unavailable."""

    def translate(self, text: str, source: str, target: str) -> str:
        if source == target:
            return text
        raise TranslationError(f"no translation pack installed for {source}->{target}")

    def pairs(self) -> set[tuple[str, str]]:
        return set()
