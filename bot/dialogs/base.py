"""The vocabulary every dialog shares: the turn, the working state, what is said, the outcome."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.effects import Effect
from bot.facts import Facts, Offer
from bot.messages import Choice, Purpose, Reply

# The turn entity holding an offer in parts, "50.00@2026-11-25;rest@2026-12-15"
# (`bot.entity_choice.offered_parts`); "rest" is whatever is left of the balance.
PARTS = "parts"
REST = "rest"
OfferPart = tuple[Decimal | None, date]  # an amount (None: the rest) and its day
Day = date  # `Turn.date` hides the type inside the class
# The turn entity holding the one part of "50 now and the rest later", "50.00@2026-11-25":
# the rest has no day yet (`bot.entity_choice.part_before_rest`).
REST_LATER = "rest_later"
# Turn entities of a promise moved to another day: the day given up ("instead of friday",
# "can't make it friday"), and the words asking for it: a verb ("move", "cambiar") or only
# "instead" ("en vez"), which may as well answer an offer on the table.
MOVED_FROM = "moved_from"
MOVE = "move"
MOVE_VERB = "verb"
MOVE_INSTEAD = "instead"
# A yes that records a commitment must be one the NLU is sure of: its own threshold (0.5 by
# default) lets through a sentence it barely takes for a yes ("i'm going through chemo", 0.55).
CLEAR_YES = 0.8
# Words that make a yes a maybe ("maybe", "i guess", "tal vez"), accents dropped.
HEDGES = re.compile(r"\b(?:maybe|probably|possibly|perhaps|i guess|i think so|not sure|quizas?"
                    r"|tal vez|a lo mejor|puede ser|creo que si|no se)\b")
# A yes and nothing but courtesy ("yes thank you", "si gracias", "ok thanks 👍"), the whole
# message: as clear as a bare yes, however the NLU scores it (it reads "yes thank you" as
# thanks). "no thanks" holds no yes word; a hedge is no word of these.
YES_WORD = r"(?:yes|yeah|yep|yup|ok|okay|sure|si|claro(?: que si)?|correct|right|that'?s right)"
COURTESY = r"(?:thank you|thanks|thx|ty|please|gracias|por favor)"
COURTEOUS_YES = re.compile(rf"(?:{COURTESY} )*{YES_WORD}(?: (?:{YES_WORD}|{COURTESY}))*")
# Not knowing the answer yet, the whole message ("i dont know", "idk", "ni idea", "not sure
# yet"): says nothing of who writes.
NOT_SURE = re.compile(
    r"(?:(?:um+|uh+|hm+|m+|well|honestly|sorry|ay|pues|la verdad)\s+)*"
    r"(?:i\s*(?:do\s*n'?t|do not)\s*know|i\s*(?:'?m|am) not sure|idk|dunno|no idea|not sure"
    r"|no (?:lo )?se|ni idea|no tengo idea|no estoy segur[oa]|quien sabe)"
    r"(?:\s+(?:yet|when|how much|what day|which day|exactly|right now|now|sorry|honestly"
    r"|lol|tbh|todavia|aun|cuando|cuanto|que dia|exactamente|ahorita|la verdad))*")
# Marks a history line holding what the debtor asked for; every other line the bot offered.
ASKED = "asked: "
# The most history lines kept in the stored state, half asks and half offers: a handoff note
# repeats at most ten of each (`negotiation.NOTE_LINES`), so no more is ever read.
HISTORY_LINES = 20
# Flows of an offer awaiting an answer (a yes or no, an option's number).
OFFER_FLOWS = frozenset({"confirm", "move", "options"})


def plain(text: str) -> str:
    """Lower case, accents dropped, a typographic apostrophe made plain."""
    text = unicodedata.normalize("NFKD", text.casefold().replace("\u2019", "'"))
    return "".join(c for c in text if not unicodedata.combining(c))


@dataclass(frozen=True)
class Turn:
    """One interpreted debtor message."""

    text: str
    intent: str
    now: datetime
    confidence: float = 1.0
    entities: dict[str, str] = field(default_factory=dict)
    language: str | None = None
    low_confidence: bool = False
    # A request remembered before verification, answered now: `text` and `entities` are
    # those of the message that asked it, not of the identity answer that verified.
    replayed: bool = False

    def amount(self) -> Decimal | None:
        """The normalized amount entity, if any."""
        try:
            value = Decimal(self.entities["amount"])
        except (KeyError, InvalidOperation):
            return None
        return value if value.is_finite() and value > 0 else None

    def date(self) -> date | None:
        """The normalized date entity, if any."""
        try:
            return date.fromisoformat(self.entities["date"])
        except (KeyError, ValueError):
            return None

    def installments(self) -> int | None:
        """The number of installments, if any."""
        value = self.entities.get("installments", "")
        return int(value) if value.isdigit() and 0 < int(value) < 1000 else None

    def frequency(self) -> str | None:
        """weekly / biweekly / monthly, if said."""
        value = self.entities.get("frequency")
        return value if value in ("weekly", "biweekly", "monthly") else None

    def parts(self) -> list[OfferPart]:
        """Each part of an offer in parts: its amount (None for the rest) and its day."""
        parts: list[OfferPart] = []
        for written in filter(None, self.entities.get(PARTS, "").split(";")):
            money, _, day = written.partition("@")
            try:
                amount = None if money == REST else Decimal(money)
                parts.append((amount, date.fromisoformat(day)))
            except (InvalidOperation, ValueError):
                return []
            if amount is not None and not (amount.is_finite() and amount > 0):
                return []
        return parts

    def part_before_rest(self) -> tuple[Decimal, Day] | None:
        """The part paid first when the rest has no day yet ("50 now and the rest later")."""
        money, _, day = self.entities.get(REST_LATER, "").partition("@")
        try:
            amount, when = Decimal(money), date.fromisoformat(day)
        except (InvalidOperation, ValueError):
            return None
        return (amount, when) if amount.is_finite() and amount > 0 else None

    def moved_from(self) -> Day | None:
        """The day the debtor gives up for another one, if they name it."""
        try:
            return date.fromisoformat(self.entities.get(MOVED_FROM, ""))
        except ValueError:
            return None

    def asks_to_move(self, *, offer_open: bool = False) -> bool:
        """The debtor asks to move a payment to another day: in so many words, or — with no
        offer of the bot's open that "instead" would answer — by putting a day in its place."""
        said = self.entities.get(MOVE)
        return said == MOVE_VERB or (not offer_open and (
            said == MOVE_INSTEAD or self.moved_from() is not None))

    def has_numbers(self) -> bool:
        """True when the debtor named an amount, a day, a count or a frequency."""
        return any(
            (self.amount(), self.date(), self.installments(), self.frequency())
        )

    def clear_yes(self) -> bool:
        """A yes to record a commitment on: read as one with confidence, or a yes word with
        only courtesy around it, and no maybe."""
        if HEDGES.search(plain(self.text)) is not None:
            return False
        return self.courteous_yes() or (self.intent == "affirm" and not self.low_confidence
                                        and self.confidence >= CLEAR_YES)

    def courteous_yes(self) -> bool:
        """The message is only a yes and courtesy ("yes thank you", "si gracias")."""
        return COURTEOUS_YES.fullmatch(_words(self.text)) is not None

    def not_sure(self) -> bool:
        """The message only says the debtor does not know (yet)."""
        return NOT_SURE.fullmatch(_words(self.text)) is not None


def _words(text: str) -> str:
    """The words of a message, plain, one space apart (punctuation and emoji dropped)."""
    return " ".join(re.sub(r"[^\w']+", " ", plain(text)).split())


@dataclass
class DialogState:
    """The working memory of one conversation (stored as JSON with a TTL)."""

    verified_until: str | None = None
    factor: int = 0
    attempts: int = 0
    locked: bool = False
    introduced: bool = False
    disclosed: bool = False  # kept so stored states load; `disclosed_in` decides
    disclosed_in: list[str] = field(default_factory=list)  # locales given the full disclosure
    pending: str | None = None
    pending_entities: dict[str, str] = field(default_factory=dict)
    pending_text: str | None = None  # the words of the request `pending` remembers
    # The request last answered while verified ({"intent", "entities", "text"}), until the
    # debtor writes again: its replies may have waited for the morning and been dropped when
    # the verification ran out (backend/services/outbox.py REVERIFY_KEY); then it becomes the
    # pending request (`resume_answered`).
    answered: dict[str, Any] = field(default_factory=dict)
    flow: str | None = None
    offer: dict[str, Any] | None = None
    options: list[dict[str, Any]] = field(default_factory=list)
    promise: dict[str, str] = field(default_factory=dict)
    rounds: int = 0
    history: list[str] = field(default_factory=list)
    clarified: int = 0
    stopped: bool = False
    language: str | None = None
    choices: list[list[str]] = field(default_factory=list)  # [label, value] last offered
    parts: list[dict[str, Any]] = field(default_factory=list)  # an offer in parts, tabled
    moving: dict[str, str] = field(default_factory=dict)  # a pending promise being moved
    # What the debtor told of their hardship, as a handoff note, while its options are open:
    # the note of a person chosen from them (the chosen "3" says nothing to the agent).
    hardship_note: str | None = None

    def remember(self, *lines: str) -> None:
        """Add lines to the negotiation history, kept within `HISTORY_LINES` (`bounded`)."""
        self.history = bounded([*self.history, *lines])

    def disclosure_due(self, locale: str) -> str:
        """The disclosure a message about the debt in `locale` carries: the full mini-Miranda
        the first time in that language, the short line after (a state stored before
        `disclosed_in` gives the full one once more: the safe side)."""
        return "short" if locale in self.disclosed_in else "full"

    def disclose(self, locale: str) -> str:
        """The disclosure due in `locale`, noted as given."""
        due = self.disclosure_due(locale)
        if due == "full":
            self.disclosed = True
            self.disclosed_in.append(locale)
        return due

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> DialogState:
        """Rebuild from storage, ignoring keys a newer or older version left behind."""
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    def keep_answered(self, turn: Turn) -> None:
        """Remember `turn` as the request last answered."""
        self.answered = {"intent": turn.intent, "entities": dict(turn.entities),
                         "text": turn.text}

    def resume_answered(self, unheard: bool) -> None:
        """The request last answered becomes the pending one when its replies were `unheard`
        (dropped with the verification that ran out before they could go); else it is
        forgotten."""
        if self.answered and unheard:
            self.pending = self.answered.get("intent")
            self.pending_entities = dict(self.answered.get("entities") or {})
            self.pending_text = self.answered.get("text")
        self.answered = {}

    def is_verified(self, now: datetime) -> bool:
        """True while a right-party verification of this conversation is still fresh."""
        return (
            not self.locked
            and self.verified_until is not None
            and now < datetime.fromisoformat(self.verified_until)
        )

    def verify(self, now: datetime, minutes: int) -> None:
        """Mark verified for `minutes` from `now`."""
        self.verified_until = (now + timedelta(minutes=minutes)).isoformat()
        self.attempts = 0
        self.factor = 0

    def table(self, offer: Offer, flow: str = "confirm") -> None:
        """Put `offer` on the table, awaiting yes or no."""
        self.flow = flow
        self.offer = offer.to_dict()
        self.parts = []
        self.moving = {}

    def clear_table(self) -> None:
        """Nothing is pending any more."""
        self.flow = None
        self.offer = None
        self.options = []
        self.promise = {}
        self.parts = []
        self.moving = {}
        self.hardship_note = None

    def drop_offer(self) -> None:
        """The bot said something else since: an offer awaiting an answer is no longer what
        a yes answers (a question for an amount or a day stays open)."""
        if self.flow in OFFER_FLOWS:
            self.clear_table()

    def tabled(self) -> Offer | None:
        """The offer awaiting an answer."""
        return Offer.from_dict(self.offer) if self.offer else None


def bounded(history: list[str]) -> list[str]:
    """The history a long negotiation keeps, in order: the debtor's first ask (where a person
    taking over starts), their latest asks, and the bot's latest offers."""
    if len(history) <= HISTORY_LINES:
        return history
    asks = [i for i, line in enumerate(history) if line.startswith(ASKED)]
    offers = [i for i, line in enumerate(history) if not line.startswith(ASKED)]
    half = HISTORY_LINES // 2
    keep = {*asks[:1], *asks[1:][-(half - 1):], *offers[-half:]}
    return [line for i, line in enumerate(history) if i in keep]


@dataclass(frozen=True)
class Said:
    """One reply with what the compliance gate must know about it."""

    reply: Reply
    debt: bool = False
    purpose: Purpose = Purpose.REPLY


@dataclass
class Outcome:
    """What a dialog step produced."""

    state: DialogState
    said: list[Said] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    identity_answer: bool = False  # the message answered an identity question: no intent

    def say(
        self,
        key: str,
        *,
        debt: bool = False,
        purpose: Purpose = Purpose.REPLY,
        choices: tuple[Choice, ...] = (),
        lead: str | None = None,
        **slots: Any,
    ) -> Outcome:
        """Add a reply by response key (after the sentence `lead`, in the same message)."""
        self.said.append(Said(Reply(key, slots, choices, lead), debt, purpose))
        return self

    def do(self, *effects: Effect) -> Outcome:
        """Add effects."""
        self.effects.extend(effects)
        return self


def offer_slots(offer: Offer, facts: Facts) -> dict[str, Any]:
    """The slots every offer sentence may use (figures from the offer, never from text)."""
    last = offer.schedule[-1] if offer.schedule else None
    return {
        "offer": offer,
        "currency": facts.currency,
        "total": offer.total,
        "amount": offer.installment,
        "count": offer.count,
        "frequency": offer.frequency or "",
        "date": offer.first_due,
        "last_amount": last.amount if last else offer.total,
        "last_date": last.due if last else offer.first_due,
    }


def choice(label: str, value: str) -> Choice:
    """A quick reply whose label is a response key."""
    return Choice(label, value)


YES_NO = (choice("choice.yes", "intent:affirm"), choice("choice.no", "intent:deny"))
MENU = (
    choice("choice.balance", "intent:ask_balance"),
    choice("choice.pay", "intent:pay_in_full"),
    choice("choice.plan", "intent:request_payment_plan"),
    choice("choice.agent", "intent:request_agent"),
)
