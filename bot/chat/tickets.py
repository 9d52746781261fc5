"""The handoff queue: tickets, their states, priority triage and SLA times.

States::

    open --claim--> claimed --resolve--> resolved --reopen--> open
      ^                |
      +----release-----+          (an open ticket may also be resolved directly)

Every state change is one conditional ``UPDATE ... WHERE state = ...`` whose row count says
whether it won, so of many agents claiming at once exactly one gets the ticket, on SQLite
and on PostgreSQL alike. Methods that change state take the caller's session, so a change
and the messages that go with it commit together.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import yaml
from sqlalchemy import CursorResult, case, select, update
from sqlalchemy.orm import Session

from bot.chat.views import TicketView
from bot.errors import ConfigError, ConflictError, NotFoundError
from bot.matching.bot import Guess
from bot.store.models import Ticket, utcnow

STATES = ("open", "claimed", "resolved")
PRIORITIES = ("urgent", "normal")
REASONS = (
    "low_confidence", "asked_for_person", "entry_handoff", "negative_feedback", "bot_unavailable",
    "photo",
)

# Keywords ending in "*" match as a word prefix; others as whole words. Scripts written
# without spaces (Chinese, Japanese) and Korean (particles glued to nouns) match anywhere.
DEFAULT_RULES: list[dict[str, Any]] = [
    {
        "name": "damaged-or-wrong-item",
        "priority": "urgent",
        "keywords": {
            "en": ["damaged", "broken", "defective", "smashed", "cracked", "wrong item",
                   "wrong product", "not what i ordered"],
            "de": ["beschädigt*", "kaputt*", "defekt*", "zerbrochen*", "falscher artikel",
                   "falsche ware", "falsches produkt", "falschen artikel"],
            "es": ["dañad*", "roto", "rota", "rotos", "defectuos*", "artículo equivocado",
                   "producto equivocado", "producto incorrecto", "artículo incorrecto"],
            "fr": ["endommagé*", "cassé*", "abîmé*", "défectueu*", "mauvais article",
                   "mauvais produit", "article erroné"],
            "it": ["danneggiat*", "rotto", "rotta", "difettos*", "articolo sbagliato",
                   "prodotto sbagliato"],
            "nl": ["beschadigd*", "kapot*", "defect*", "verkeerd artikel", "verkeerde artikel",
                   "verkeerd product", "verkeerde product"],
            "pl": ["uszkodzon*", "zepsut*", "zniszczon*", "wadliw*", "zły produkt",
                   "niewłaściwy produkt", "nie ten produkt"],
            "pt": ["danificad*", "avariad*", "defeituos*", "veio partid*", "chegou partid*",
                   "artigo errado", "produto errado"],
            "zh": ["损坏", "破损", "坏了", "发错", "错发", "质量问题"],
            "ja": ["破損", "壊れ", "不良品", "間違った商品", "違う商品"],
            "ko": ["파손", "부서졌", "불량", "잘못된 상품", "다른 상품"],
            "ru": ["поврежд*", "сломан*", "разбит*", "брак*", "не тот товар",
                   "неправильный товар"],
            "tr": ["hasarlı", "kırık", "bozuk", "ayıplı", "yanlış ürün"],
            "sv": ["skadad*", "skadat", "trasig*", "sönder", "defekt*", "fel vara",
                   "fel produkt"],
        },
    },
    {
        "name": "charged-twice",
        "priority": "urgent",
        "keywords": {
            "en": ["charged twice", "double charged", "double charge", "charged me twice",
                   "billed twice", "duplicate charge", "paid twice"],
            "de": ["doppelt abgebucht", "zweimal abgebucht", "doppelt belastet",
                   "doppelt berechnet", "zweimal belastet", "doppelt bezahlt", "zweimal bezahlt"],
            "es": ["cobrado dos veces", "cobraron dos veces", "doble cobro", "cargo duplicado",
                   "pagado dos veces"],
            "fr": ["débité deux fois", "prélevé deux fois", "facturé deux fois",
                   "double prélèvement", "double débit", "payé deux fois"],
            "it": ["addebitato due volte", "doppio addebito", "pagato due volte"],
            "nl": ["twee keer afgeschreven", "dubbel afgeschreven", "dubbel betaald",
                   "twee keer betaald"],
            "pl": ["dwa razy pobran*", "podwójnie pobran*", "podwójne obciążenie",
                   "pobrano dwukrotnie", "zapłaciłem dwa razy", "zapłaciłam dwa razy"],
            "pt": ["cobrado duas vezes", "cobrança duplicada", "cobrança em duplicado",
                   "debitado duas vezes", "paguei duas vezes"],
            "zh": ["重复扣款", "扣了两次", "重复收费", "扣款两次", "付了两次"],
            "ja": ["二重請求", "二重引き落とし", "2回請求", "二回請求"],
            "ko": ["이중 결제", "중복 결제", "두 번 결제"],
            "ru": ["списали дважды", "двойное списание", "дважды списали", "оплатил дважды"],
            "tr": ["iki kez çekildi", "iki kere çekildi", "çift çekim", "iki kez ödeme"],
            "sv": ["dragits två gånger", "dubbeldebiter*", "debiterad två gånger",
                   "betalat två gånger"],
        },
    },
    {
        "name": "chargeback",
        "priority": "urgent",
        "keywords": {
            "en": ["chargeback", "charge back", "dispute the charge", "disputed the charge"],
            "de": ["rückbuchung*", "chargeback", "zurückbuchen"],
            "es": ["contracargo*", "chargeback"],
            "fr": ["rétrofacturation", "chargeback", "opposition bancaire",
                   "contestation de paiement"],
            "it": ["chargeback", "storno"],
            "nl": ["terugboeking*", "chargeback"],
            "pl": ["chargeback", "obciążenie zwrotne"],
            "pt": ["estorno", "chargeback"],
            "zh": ["拒付", "银行争议"],
            "ja": ["チャージバック"],
            "ko": ["지불 거절", "차지백"],
            "ru": ["чарджбэк*", "опротестова*"],
            "tr": ["ters ibraz", "chargeback"],
            "sv": ["återkrav*", "chargeback"],
        },
    },
    {
        "name": "fraud",
        "priority": "urgent",
        "keywords": {
            "en": ["fraud*", "scam*", "stolen card", "unauthori*", "hacked"],
            "de": ["betrug*", "betrüger*", "gestohlen*", "nicht autorisiert*", "gehackt"],
            "es": ["fraude*", "estafa*", "robada", "robado", "no autorizad*", "hackead*"],
            "fr": ["fraude*", "arnaque*", "volée", "non autorisé*", "piraté*"],
            "it": ["frode", "truffa*", "rubata", "non autorizzat*"],
            "nl": ["fraude*", "oplichting", "opgelicht", "gestolen", "niet geautoriseerd*",
                   "gehackt"],
            "pl": ["oszust*", "kradzież*", "skradzion*", "nieautoryzowan*", "włamani*"],
            "pt": ["fraude*", "golpe", "roubad*", "não autorizad*"],
            "zh": ["诈骗", "欺诈", "盗刷", "被盗"],
            "ja": ["詐欺", "不正利用", "盗難"],
            "ko": ["사기", "도용", "해킹"],
            "ru": ["мошенни*", "украл*", "несанкционирован*", "взлом*"],
            "tr": ["dolandırıc*", "çalıntı", "yetkisiz"],
            "sv": ["bedrägeri*", "stulet", "stulna", "stulen", "obehörig*", "kapad*"],
        },
    },
]


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _unspaced(ch: str) -> bool:
    name = unicodedata.name(ch, "")
    return name.startswith(("CJK", "HIRAGANA", "KATAKANA", "HANGUL"))


def keyword_pattern(keyword: str) -> re.Pattern[str]:
    """Compile one keyword: whole word, ``word*`` prefix, or anywhere for unspaced scripts."""
    folded = _fold(keyword)
    prefix = folded.endswith("*")
    folded = folded.rstrip("*").strip()
    if not folded:
        raise ConfigError(f"empty triage keyword {keyword!r}")
    body = re.escape(folded)
    if _unspaced(folded[0]):
        return re.compile(body)
    return re.compile(rf"(?<!\w){body}" + ("" if prefix else r"(?!\w)"))


@dataclass(frozen=True)
class TriageRule:
    """Text matching any keyword (in any language) gets ``priority``."""

    name: str
    priority: str
    patterns: tuple[re.Pattern[str], ...]

    def matches(self, folded_text: str) -> bool:
        return any(p.search(folded_text) for p in self.patterns)


class Triage:
    """Priority rules; the first matching urgent rule wins, else the ticket is normal."""

    def __init__(self, rules: Iterable[Mapping[str, Any]]) -> None:
        self.rules: list[TriageRule] = []
        for i, raw in enumerate(rules):
            name = str(raw.get("name") or f"rule {i + 1}")
            priority = raw.get("priority")
            if priority not in PRIORITIES:
                raise ConfigError(f"triage rule {name!r}: priority must be one of {PRIORITIES}")
            keywords = raw.get("keywords")
            if not isinstance(keywords, Mapping) or not keywords:
                raise ConfigError(
                    f"triage rule {name!r}: keywords must map language codes to lists"
                )
            patterns = []
            for lang, words in keywords.items():
                if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
                    raise ConfigError(f"triage rule {name!r}: keywords.{lang} must be a list")
                patterns += [keyword_pattern(w) for w in words]
            self.rules.append(TriageRule(name, str(priority), tuple(patterns)))

    @classmethod
    def from_file(cls, path: Path) -> Triage:
        """Load rules from a YAML file: ``rules: [{name, priority, keywords: {lang: [...]}}]``."""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"FAQBOT_TRIAGE_RULES_FILE {path}: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
            raise ConfigError(f"FAQBOT_TRIAGE_RULES_FILE {path}: expected a 'rules:' list")
        return cls(data["rules"])

    @classmethod
    def default(cls) -> Triage:
        """Return the built-in rules (damaged or wrong item, charged twice, chargeback, fraud)."""
        return cls(DEFAULT_RULES)

    def classify(self, text: str) -> tuple[str, str | None]:
        """Return (priority, name of the matching rule or None) for a shopper's text."""
        folded = _fold(text)
        for rule in self.rules:
            if rule.priority == "urgent" and rule.matches(folded):
                return "urgent", rule.name
        return "normal", None


def ticket_view(ticket: Ticket, now: datetime | None = None) -> TicketView:
    """Return a ticket as the agent console lists it."""
    now = now or utcnow()
    end = ticket.resolved_at if ticket.state == "resolved" and ticket.resolved_at else now
    return TicketView(
        id=ticket.id,
        state=ticket.state,
        priority=ticket.priority,
        language=ticket.language,
        reason=ticket.reason,
        created_at=ticket.created_at,
        due_at=ticket.due_at,
        sla_breached=ticket.state != "resolved" and now > ticket.due_at,
        waiting_seconds=max(0, int((end - ticket.queued_at).total_seconds())),
        claimed_by=ticket.claimed_by,
        preview=ticket.preview,
        session_id=ticket.conversation_id,
        spam=bool(ticket.spam),
    )


def ticket_guesses(ticket: Ticket) -> list[Guess]:
    """Return the bot's guesses stored on a ticket."""
    return [Guess(str(g["faq_id"]), float(g["score"])) for g in ticket.guesses or []]


class TicketStore:
    """Creates tickets and moves them between states with conditional updates."""

    def __init__(
        self,
        triage: Triage,
        sla_minutes: Mapping[str, int],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        missing = [p for p in PRIORITIES if p not in sla_minutes]
        if missing:
            raise ConfigError(f"SLA minutes missing for priorities {missing}")
        if any(int(m) < 1 for m in sla_minutes.values()):
            raise ConfigError("FAQBOT_SLA_MINUTES_* must be at least 1")
        self.triage = triage
        self.sla_minutes = dict(sla_minutes)
        self.clock = clock

    def due(self, priority: str, start: datetime) -> datetime:
        """Return when a ticket of ``priority`` queued at ``start`` should be answered."""
        return start + timedelta(minutes=self.sla_minutes[priority])

    # ---- inside the caller's transaction ----
    def create(
        self,
        s: Session,
        conversation_id: str,
        language: str,
        reason: str,
        guesses: Sequence[Guess],
        preview: str,
        text: str,
    ) -> Ticket:
        """Open a ticket for a conversation; ``text`` (what the shopper wrote) sets priority."""
        if reason not in REASONS:
            raise ValueError(f"unknown handoff reason {reason!r}")
        priority, _rule = self.triage.classify(text)
        now = self.clock()
        ticket = Ticket(
            conversation_id=conversation_id, state="open", priority=priority, language=language,
            reason=reason, guesses=[{"faq_id": g.faq_id, "score": g.score} for g in guesses],
            preview=preview[:300], created_at=now,
            queued_at=now, due_at=self.due(priority, now), reopened=0,
        )
        s.add(ticket)
        s.flush()
        return ticket

    def retriage(self, s: Session, ticket: Ticket, text: str) -> None:
        """Raise a ticket to urgent when new shopper text matches an urgent rule (never lower)."""
        if ticket.priority == "urgent":
            return
        priority, _rule = self.triage.classify(text)
        if priority == "urgent":
            ticket.priority = "urgent"
            ticket.due_at = min(ticket.due_at, self.due("urgent", ticket.queued_at))
            s.flush()

    def reopen(self, s: Session, ticket_id: int) -> Ticket:
        """Put a resolved ticket back in the queue with a fresh SLA."""
        now = self.clock()
        t = self._get(s, ticket_id)
        res = self._update(
            s,
            update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.state == "resolved")
            .values(state="open", claimed_by=None, claimed_at=None, resolved_at=None,
                    queued_at=now, due_at=self.due(t.priority, now),
                    reopened=Ticket.reopened + 1),
        )
        if res != 1:
            raise ConflictError(f"ticket {ticket_id} is {t.state}, not resolved: nothing to reopen")
        return self._get(s, ticket_id, refresh=True)

    def claim(self, s: Session, ticket_id: int, agent: str) -> Ticket:
        """Give an open ticket to ``agent``; exactly one of several concurrent claims wins."""
        won = self._update(
            s,
            update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.state == "open")
            .values(state="claimed", claimed_by=agent, claimed_at=self.clock()),
        )
        t = self._get(s, ticket_id, refresh=True)
        if won == 1 or (t.state == "claimed" and t.claimed_by == agent):
            return t
        if t.state == "claimed":
            raise ConflictError(f"ticket {ticket_id} is already claimed by {t.claimed_by}")
        raise ConflictError(f"ticket {ticket_id} is {t.state}; only open tickets can be claimed")

    def release(self, s: Session, ticket_id: int, agent: str) -> Ticket:
        """Return a ticket ``agent`` holds to the queue, keeping its place."""
        won = self._update(
            s,
            update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.state == "claimed", Ticket.claimed_by == agent)
            .values(state="open", claimed_by=None, claimed_at=None),
        )
        t = self._get(s, ticket_id, refresh=True)
        if won == 1:
            return t
        if t.state == "claimed":
            raise ConflictError(f"ticket {ticket_id} is held by {t.claimed_by}, not by {agent}")
        raise ConflictError(f"ticket {ticket_id} is {t.state}; only a claimed ticket is released")

    def resolve(self, s: Session, ticket_id: int, agent: str) -> Ticket:
        """Close a ticket that is open or held by ``agent``."""
        won = self._update(
            s,
            update(Ticket)
            .where(
                Ticket.id == ticket_id,
                (Ticket.state == "open")
                | ((Ticket.state == "claimed") & (Ticket.claimed_by == agent)),
            )
            .values(state="resolved", resolved_at=self.clock(),
                    claimed_by=case((Ticket.claimed_by.is_(None), agent),
                                    else_=Ticket.claimed_by)),
        )
        t = self._get(s, ticket_id, refresh=True)
        if won == 1:
            return t
        if t.state == "claimed":
            raise ConflictError(f"ticket {ticket_id} is held by {t.claimed_by}, not by {agent}")
        raise ConflictError(f"ticket {ticket_id} is already resolved")

    def check_holder(self, s: Session, ticket_id: int, agent: str, lock: bool = False) -> Ticket:
        """Return the ticket if ``agent`` holds it; else say why not (409)."""
        t = self._get(s, ticket_id, lock=lock)
        if t.state == "claimed" and t.claimed_by == agent:
            return t
        if t.state == "claimed":
            raise ConflictError(f"ticket {ticket_id} is held by {t.claimed_by}, not by {agent}")
        raise ConflictError(f"ticket {ticket_id} is {t.state}: claim it before replying")

    # ---- queries ----
    def list(
        self,
        s: Session,
        state: str | None = None,
        language: str | None = None,
        priority: str | None = None,
        limit: int = 200,
        claimed_by: str | None = None,
    ) -> list[Ticket]:
        """List tickets, oldest urgent first, then oldest normal; no state = open and claimed."""
        q = select(Ticket)
        q = q.where(Ticket.state == state) if state else q.where(Ticket.state != "resolved")
        if claimed_by:
            q = q.where(Ticket.claimed_by == claimed_by)
        if language:
            q = q.where(Ticket.language == language)
        if priority:
            q = q.where(Ticket.priority == priority)
        rank = case((Ticket.priority == "urgent", 0), else_=1)
        q = q.order_by(rank, Ticket.queued_at, Ticket.id).limit(limit)
        return list(s.scalars(q))

    def get(self, s: Session, ticket_id: int) -> Ticket:
        """Return one ticket or raise NotFoundError."""
        return self._get(s, ticket_id)

    def for_conversation(
        self, s: Session, conversation_id: str, lock: bool = False
    ) -> Ticket | None:
        """Return the conversation's ticket, if it has one."""
        q = select(Ticket).where(Ticket.conversation_id == conversation_id)
        if lock:
            q = q.with_for_update()
        return s.scalars(q).first()

    # ---- helpers ----
    @staticmethod
    def _update(s: Session, stmt: Any) -> int:
        result = cast(CursorResult[Any], s.execute(stmt, execution_options={
            "synchronize_session": False}))
        return int(result.rowcount)

    @staticmethod
    def _get(s: Session, ticket_id: int, refresh: bool = False, lock: bool = False) -> Ticket:
        q = select(Ticket).where(Ticket.id == ticket_id)
        if lock:
            q = q.with_for_update()
        if refresh or lock:
            q = q.execution_options(populate_existing=True)
        t = s.scalars(q).first()
        if t is None:
            raise NotFoundError(f"no ticket {ticket_id}")
        return t
