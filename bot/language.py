"""Detect the language of a shopper's message: langdetect made deterministic, plus fallbacks.

Order of evidence: the writing system (Hangul, kana, Han, Cyrillic ... decide at once), then
langdetect restricted to the supported languages when it is sure, then letters only one
supported language uses (ß, ñ, ł ...), then the caller's hints (conversation, widget locale),
then the default language.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from langdetect import DetectorFactory, LangDetectException, detect_langs

ISO_639_1 = frozenset(
    "aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy "
    "da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht "
    "hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky "
    "la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny "
    "oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss "
    "st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo "
    "za zh zu".split()
)

# Letters that, among the languages shops usually support, belong to one language only.
_UNIQUE_LETTERS = {
    "ß": "de", "ñ": "es", "¿": "es", "¡": "es", "ł": "pl", "ą": "pl", "ę": "pl", "ś": "pl",
    "ź": "pl", "ż": "pl", "ć": "pl", "ń": "pl", "ã": "pt", "õ": "pt", "å": "sv", "ğ": "tr",
    "ş": "tr", "ı": "tr", "ĳ": "nl", "œ": "fr", "æ": "da", "ø": "no",
}
# langdetect is only trusted when it is this sure and the text has this many letters.
MIN_PROBABILITY = 0.90
MIN_LETTERS = 12

_lock = threading.Lock()
DetectorFactory.seed = 0  # langdetect is random unless seeded


@dataclass(frozen=True)
class Detection:
    """A language decision and what it rests on."""

    language: str
    confident: bool
    source: str  # script | langdetect | letters | hint | default


def _script_language(text: str) -> str | None:
    counts: dict[str, int] = {}
    for ch in text:
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        for script, lang in (
            ("HANGUL", "ko"), ("HIRAGANA", "ja"), ("KATAKANA", "ja"), ("CJK", "zh"),
            ("CYRILLIC", "ru"), ("GREEK", "el"), ("ARABIC", "ar"), ("HEBREW", "he"),
            ("THAI", "th"), ("DEVANAGARI", "hi"),
        ):
            if name.startswith(script):
                counts[lang] = counts.get(lang, 0) + 1
                break
        else:
            counts["latin"] = counts.get("latin", 0) + 1
    if not counts:
        return None
    # Japanese mixes kanji with kana: any kana means Japanese; Korean likewise with Hangul.
    if counts.get("ja"):
        return "ja"
    if counts.get("ko"):
        return "ko"
    best = max(counts, key=lambda k: counts[k])
    return None if best == "latin" else best


def _langdetect(text: str, supported: Sequence[str]) -> tuple[str, float] | None:
    with _lock:  # langdetect's factory is global state
        try:
            guesses = detect_langs(text)
        except LangDetectException:
            return None
    for guess in guesses:
        code = "zh" if guess.lang.startswith("zh") else guess.lang
        if code in supported:
            return code, float(guess.prob)
    return None


def detect_language(
    text: str,
    supported: Sequence[str],
    default: str,
    hints: Iterable[str | None] = (),
) -> Detection:
    """Decide the language of ``text``; short or unsure text takes the first usable hint."""
    script = _script_language(text)
    if script is not None:
        if script == "ru" and "ru" not in supported and "uk" in supported:
            script = "uk"
        if script in supported:
            return Detection(script, True, "script")
    letters = sum(ch.isalpha() for ch in text)
    if letters:
        found = _langdetect(text, supported)
        if found and found[1] >= MIN_PROBABILITY and letters >= MIN_LETTERS:
            return Detection(found[0], True, "langdetect")
        lowered = text.casefold()
        unique = {lang for ch, lang in _UNIQUE_LETTERS.items() if ch in lowered}
        unique &= set(supported)
        if len(unique) == 1:
            return Detection(unique.pop(), False, "letters")
    for hint in hints:
        if hint:
            code = hint.split("-")[0].split("_")[0].lower()
            if code in supported:
                return Detection(code, False, "hint")
    # No guess from langdetect on short text even when it claims 0.99+: it calls "iPhone 15"
    # English, "merci" Spanish and "Klarna" Swedish; the default is the safer answer.
    return Detection(default, False, "default")
