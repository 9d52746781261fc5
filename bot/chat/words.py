"""Fold and split shopper text the same way for messages and for the word lists they meet.

Shoppers type "adios", "Adiós" and "ADIOS!!"; word lists are written with accents. Both go
through :func:`fold` (NFKC, case folded, accents of Latin and Cyrillic letters dropped,
typographic apostrophes made plain), so a list entry matches every spelling of it.
Japanese voiced marks and Korean syllables are left whole: only Latin and Cyrillic letters
lose their marks.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})
# Emoji presentation selectors, skin tones and joiners: "👍🏽" is "👍".
_EMOJI_PARTS = re.compile("[\ufe0e\ufe0f\u200d\U0001f3fb-\U0001f3ff]")
# A word (letters and digits, inner apostrophes kept: "that's", "l'aiuto") or any one other
# visible character (an emoji, a question mark).
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*|\S")
_ELONGATED = re.compile(r"(.)\1{2,}")


@functools.lru_cache(maxsize=1 << 14)
def _strips_marks(ch: str) -> bool:
    name = unicodedata.name(ch, "")
    return name.startswith(("LATIN", "CYRILLIC"))


def fold(text: str) -> str:
    """Return ``text`` case folded, without Latin/Cyrillic accents, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    text = _EMOJI_PARTS.sub("", text)
    if not text.isascii():
        out: list[str] = []
        base_strips = False
        for ch in unicodedata.normalize("NFD", text):
            if unicodedata.combining(ch):
                if base_strips:
                    continue
            else:
                base_strips = _strips_marks(ch)
            out.append(ch)
        text = unicodedata.normalize("NFC", "".join(out))
    return " ".join(text.split())


def tokens(folded: str) -> list[str]:
    """Split folded text into words and single symbols (emoji, punctuation)."""
    return _TOKEN.findall(folded)


def is_word(token: str) -> bool:
    """Tell whether a token is a word (letters or digits) rather than a symbol."""
    return token[:1].isalnum()


@functools.lru_cache(maxsize=1 << 14)
def unspaced(ch: str) -> bool:
    """Tell whether ``ch`` belongs to a script written without spaces between words.

    Chinese and Japanese, and Korean too: its particles are glued to the noun ("주문이").
    """
    name = unicodedata.name(ch, "")
    return name.startswith(("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "HALFWIDTH KATAKANA"))


def is_emoji(token: str) -> bool:
    """Tell whether a one-character token is a pictograph (not punctuation)."""
    return len(token) == 1 and unicodedata.category(token) == "So"


def elongations(token: str) -> tuple[str, ...]:
    """Return the token and its spellings with stretched letters cut ("hellooo" -> "hello")."""
    if not _ELONGATED.search(token):
        return (token,)
    return (token, _ELONGATED.sub(r"\1", token), _ELONGATED.sub(r"\1\1", token))


class KeywordSet:
    """Keywords looked up by token instead of one regex alternation (40x faster here).

    A keyword is a phrase of whole words ("talk to a human"), may end in a prefix
    ("beschädigt*" matches "beschädigte"), or is written in an unspaced script ("转人工",
    "상담원"): then it matches anywhere. Search folded text and its :func:`tokens`.
    """

    def __init__(self, keywords: Iterable[str]) -> None:
        self._phrases: dict[str, list[tuple[tuple[str, ...], bool]]] = {}
        self._prefixes: dict[str, list[str]] = {}  # first three letters -> one-word prefixes
        self._unspaced: list[str] = []
        self.size = 0
        for keyword in keywords:
            folded = fold(keyword)
            prefix = folded.endswith("*")
            words = tuple(t for t in tokens(folded.rstrip("*")) if is_word(t))
            if not words:
                raise ValueError(f"empty keyword {keyword!r}")
            self.size += 1
            if unspaced(words[0][0]):  # also Korean phrases: "사람이랑 얘기" in "...얘기하고"
                self._unspaced.append(" ".join(words))
            elif prefix and len(words) == 1:
                self._prefixes.setdefault(words[0][:3], []).append(words[0])
            else:
                self._phrases.setdefault(words[0], []).append((words, prefix))
        self._unspaced.sort(key=len, reverse=True)

    def __bool__(self) -> bool:
        return self.size > 0

    def search(self, folded: str, toks: list[str] | None = None) -> str | None:
        """Return the first keyword found in ``folded`` text, or None."""
        for chunk in self._unspaced:
            if chunk in folded:
                return chunk
        words = [t for t in (tokens(folded) if toks is None else toks) if is_word(t)]
        for i, word in enumerate(words):
            for prefix in self._prefixes.get(word[:3], ()):
                if word.startswith(prefix):
                    return prefix + "*"
            for phrase, is_prefix in self._phrases.get(word, ()):
                n = len(phrase)
                if len(words) - i < n or tuple(words[i:i + n - 1]) != phrase[:-1]:
                    continue
                last = words[i + n - 1]
                if last == phrase[-1] or (is_prefix and last.startswith(phrase[-1])):
                    return " ".join(phrase)
        return None
