"""What a shopper's words ask for beyond the FAQ: a person (in every supported language).

Phrases count anywhere in a message; single words only when the message is that short
("human", "Mitarbeiter bitte"), so "is the person who signs for the parcel ..." is not one.
"""

from __future__ import annotations

import unicodedata

_PERSON_PHRASES = [
    # en
    "talk to a human", "talk to a person", "talk to someone", "talk to an agent",
    "talk to a real", "speak to a human", "speak to a person", "speak to someone",
    "speak to an agent", "speak to a real", "speak with a human", "speak with a person",
    "speak with someone", "talk with a human", "talk with a person", "talk with someone",
    "real person", "real human", "human agent", "live agent", "i want a human",
    "i need a human", "customer service representative", "connect me to an agent",
    # de
    "mit einem menschen", "mit einer person", "mit einem mitarbeiter", "mit einer mitarbeiterin",
    "echten menschen", "echte person", "echten person", "mitarbeiter sprechen",
    # es
    "hablar con una persona", "hablar con un humano", "hablar con alguien",
    "hablar con un agente", "hablar con un operador", "persona real",
    # fr
    "parler à quelqu'un", "parler à une personne", "parler à un humain",
    "parler avec un humain", "parler à un conseiller", "parler avec un conseiller",
    "parler à un agent", "vrai humain", "vraie personne",
    # it
    "parlare con una persona", "parlare con un operatore", "parlare con qualcuno",
    "parlare con un umano", "persona reale", "persona vera", "operatore umano",
    # nl
    "met een mens", "met een persoon", "met een medewerker", "echt persoon", "echte persoon",
    "echt mens", "medewerker spreken",
    # pl
    "z człowiekiem", "z konsultantem", "z konsultantką", "z pracownikiem", "z prawdziwą osobą",
    "z żywym człowiekiem",
    # pt
    "falar com uma pessoa", "falar com um humano", "falar com alguém", "falar com um atendente",
    "falar com um agente", "falar com um operador", "pessoa real", "atendimento humano",
    # zh / ja / ko
    "人工客服", "转人工", "真人", "人工服务", "找人工", "オペレーター", "担当者と話", "人と話",
    "スタッフと話", "有人対応", "상담원", "상담사", "사람과 이야기", "사람이랑", "직원과",
    # ru
    "с человеком", "с оператором", "с сотрудником", "с живым", "с менеджером",
    "живой человек", "живого человека",
    # tr
    "bir insanla", "temsilci ile", "temsilciyle", "canlı destek", "müşteri temsilcisi",
    "yetkiliyle", "gerçek bir kişi",
    # sv
    "med en människa", "med en person", "med någon", "med en handläggare", "riktig person",
]
_PERSON_WORDS = {
    "human", "person", "agent", "operator", "representative", "mensch", "mitarbeiter",
    "mitarbeiterin", "humano", "persona", "agente", "operador", "humain", "conseiller",
    "conseillère", "opérateur", "operatore", "umano", "mens", "medewerker", "konsultant",
    "człowiek", "pracownik", "atendente", "pessoa", "人工", "客服", "担当者", "人間", "사람",
    "оператор", "человек", "сотрудник", "temsilci", "insan", "människa", "handläggare",
}
_POLITE = {"please", "bitte", "por favor", "s'il vous plaît", "per favore", "alstublieft",
           "proszę", "пожалуйста", "lütfen", "tack", "请", "please!"}


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(
        " " if unicodedata.category(c)[0] in "PSZ" and c != "'" else c for c in text
    )
    return " ".join(text.split())


_PHRASES = [_fold(p) for p in _PERSON_PHRASES]


def wants_person(text: str) -> bool:
    """Tell whether the shopper asks for a person, in any supported language."""
    folded = _fold(text)
    if not folded:
        return False
    padded = f" {folded} "
    for phrase in _PHRASES:
        if phrase.isascii() or " " in phrase:
            if f" {phrase} " in padded or (not phrase.isascii() and phrase in folded):
                return True
        elif phrase in folded:
            return True
    words = [w for w in folded.split() if w not in _POLITE]
    if 0 < len(words) <= 3:
        rest = [w for w in words if w not in {"a", "an", "the", "ein", "un", "une", "un'", "uno"}]
        if any(w in _PERSON_WORDS for w in rest) and len(rest) <= 2:
            return True
        if len(folded) <= 12 and any(w in folded for w in ("人工", "客服", "担当者")):
            return True
    return False
