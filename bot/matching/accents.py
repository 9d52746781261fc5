"""Put back the accents a shopper left out, before the question is embedded.

Shoppers often type without their language's letters ("siparisim nerede" for "siparişim
nerede", "zwrot pieniedzy" for "zwrot pieniędzy"), and USE reads the bare form as another
word. MASSIVE 1.1 test (every other utterance, 1,487), each utterance's English twin found
among all of them (P@1), as written / without accents / accents put back with this table:
Turkish .772 / .510 / .711, Polish .743 / .605 / .712, German .887 / .769 / .854, Swedish (e5,
its lane's model) .760 / .575 / .729, French .906 / .869 / .893, Portuguese .844 / .811 /
.839, Spanish .881 / .875 / .881; text written with its accents is unchanged. Italian is left
out (.818 bare, .810 put back). Only words typed entirely
in ASCII that the table knows change (data/accents.json.gz, scripts/accent_words.py); the
shopper's text as stored and shown stays as typed.
"""

from __future__ import annotations

import functools
import gzip
import json
import re
import unicodedata
from pathlib import Path

ACCENTS_FILE = Path(__file__).parent / "data" / "accents.json.gz"
WORD = re.compile(r"\w+")
# Letters NFD does not split into a base letter and a mark.
_PLAIN = str.maketrans({"ı": "i", "ł": "l", "ø": "o", "æ": "ae", "ß": "ss", "đ": "d"})


def fold(word: str) -> str:
    """Return a lower-case word as typed on a keyboard without accents."""
    decomposed = unicodedata.normalize("NFD", word.translate(_PLAIN))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


@functools.cache
def _table() -> dict[str, dict[str, str]]:
    if not ACCENTS_FILE.exists():
        return {}
    with gzip.open(ACCENTS_FILE, "rt", encoding="utf-8") as f:
        loaded: dict[str, dict[str, str]] = json.load(f)
    return loaded


def restore(text: str, language: str) -> str:
    """Return ``text`` with the accents of ``language`` put back where a word lacks them."""
    table = _table().get(language)
    if not table:
        return text

    def one(m: re.Match[str]) -> str:
        word = m.group(0)
        if not word.isascii():
            return word
        found = table.get(word.lower())
        if found is None:
            return word
        if word.isupper() and len(word) > 1:
            return found.upper()
        return found[:1].upper() + found[1:] if word[:1].isupper() else found

    return WORD.sub(one, text)
