"""Rendering a dialog's reply: the sentence, its slots formatted per locale, the disclosures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, get_currency_name

from bot.dialogs.base import Said
from bot.messages import Choice, Purpose
from bot.responses.catalog import Catalog, slots

BABEL_LOCALES = {"en": "en_US", "es": "es_US"}
# The renderer knows the account's currency, not the debtor's country: a currency spent in
# one region names it, so amounts and dates read as they are written there ("1.500,00 €"
# in Spain, where "1,500" is one and a half). Others keep the language's US form.
REGIONAL_LOCALES = {
    "en": {"EUR": "en_IE", "GBP": "en_GB"},
    "es": {"EUR": "es_ES", "MXN": "es_MX", "ARS": "es_AR", "CLP": "es_CL", "COP": "es_CO"},
}
# In Spanish a symbol is written only where it names one currency: the euro's in Spain, the
# dollar's in the US. Elsewhere ("$" is also the peso's) the code follows the amount, as
# Spanish speakers write them ("15,000.00 MXN").
OWN_SYMBOL = frozenset({("es_ES", "EUR"), ("es_US", "USD")})
CODE_AFTER = "#,##0.00 \u00a4\u00a4"  # a plain space: NBSP would force UCS-2 SMS
OPT_OUT_CHANNELS = frozenset({"sms", "whatsapp", "telegram"})
OPT_OUT_PURPOSES = frozenset({Purpose.REPLY, Purpose.PAYMENT_RECEIPT, Purpose.AGENT})


@dataclass(frozen=True)
class RenderContext:
    """Everything rendering depends on besides the reply."""

    locale: str = "en"
    currency: str = "USD"
    channel: str = "sms"
    wording: str | None = None
    disclosure: str | None = None  # "full" (mini-Miranda), "short" or None
    results: dict[str, Any] = field(default_factory=dict)  # effect outputs, e.g. url


@dataclass(frozen=True)
class Rendered:
    """Final text and quick replies."""

    text: str
    choices: tuple[Choice, ...] = ()


class Renderer:
    """Turns `Said` into text in the debtor's language."""

    def __init__(self, catalog: Catalog | None = None, *, support: str | None = None) -> None:
        self.catalog = catalog or Catalog()
        self.support = support  # how people reach the team (SUPPORT_CONTACT), if configured

    def sentence(self, key: str, slots: dict[str, Any], ctx: RenderContext) -> str:
        """One sentence with its slots formatted (a channel's own variant, `key.channel`,
        when the files have one: the portal has no "number" to remove). With a support
        contact configured, a sentence that has a `key.support` variant names it."""
        if self.support and self.catalog.has(f"{key}.support", ctx.locale):
            key, slots = f"{key}.support", {**slots, "support": self.support}
        if self.catalog.has(f"{key}.{ctx.channel}", ctx.locale):
            key = f"{key}.{ctx.channel}"
        text = self.catalog.text(key, ctx.locale, ctx.wording)
        given = {**ctx.results, **slots}
        values = {k: self._format(k, given[k], ctx) for k in _fields(text) if k in given}
        try:
            return text.format_map(values)
        except KeyError as exc:
            source = self.catalog.source(key, ctx.locale, ctx.wording)
            raise KeyError(f"{source}: sentence {key!r} needs slot {exc.args[0]!r}") from None

    def render(self, said: Said, ctx: RenderContext) -> Rendered:
        """The message text (disclosures and opt-out line included) and its choices."""
        slots = dict(said.reply.slots)
        parts = [self.sentence(said.reply.key, slots, ctx)]
        if said.reply.lead:
            parts.insert(0, self.sentence(said.reply.lead, {}, ctx))
        for n, option in enumerate(slots.get("options", []), start=1):
            parts.append(f"{n}. {self.sentence(_option_key(option), option, ctx)}")
        framed = self._framed(parts, said.purpose, ctx, said.reply.key)
        return Rendered(framed, self._choices(said, slots, ctx))

    def framed(self, text: str, purpose: Purpose, ctx: RenderContext) -> str:
        """Free text (an agent's reply) with the disclosure and opt-out line a bot reply
        would carry: compliance.md A.3 item 12 and A.4 item 17 hold for people too."""
        return self._framed([text], purpose, ctx)

    def _framed(self, parts: list[str], purpose: Purpose, ctx: RenderContext,
                key: str | None = None) -> str:
        if ctx.disclosure == "full":
            parts.insert(0, self.sentence("disclosure.mini_miranda", {}, ctx))
        elif ctx.disclosure == "short":
            parts.append(self.sentence("disclosure.short", {}, ctx))
        if ctx.channel in OPT_OUT_CHANNELS and purpose in OPT_OUT_PURPOSES:
            parts.append(self._opt_out_line(key, ctx))
        return "\n".join(parts)

    def _opt_out_line(self, key: str | None, ctx: RenderContext) -> str:
        """How to stop on the channel: a reply's own line (`<key>.optout_line.<channel>`)
        when the files have one, else the channel's. The HELP reply has its own: compliance.md
        C item 49 wants its opt-out instructions in the program's language (BAJA in Spanish)."""
        own = f"{key}.optout_line.{ctx.channel}"
        if key is not None and self.catalog.has(own, ctx.locale):
            return self.sentence(own, {}, ctx)
        return self.sentence(f"optout_line.{ctx.channel}", {}, ctx)

    def _choices(self, said: Said, slots: dict[str, Any], ctx: RenderContext) -> tuple[Choice, ...]:
        options = slots.get("options", [])
        rendered = []
        for c in said.reply.choices:
            index = int(c.value.split(":")[1]) if c.value.startswith("option:") else None
            label_slots = options[index] if index is not None else {}
            rendered.append(Choice(self.sentence(c.label, label_slots, ctx), c.value))
        return tuple(rendered)

    def _format(self, name: str, value: Any, ctx: RenderContext) -> Any:
        babel_locale = locale_for(ctx.locale, ctx.currency)
        if isinstance(value, Decimal) and name not in ("count", "days", "left"):
            return money(value, ctx.currency, babel_locale)
        if isinstance(value, date):
            return format_date(value, format="long", locale=babel_locale)
        if name == "currency_name":
            return get_currency_name(value, count=2, locale=babel_locale)
        if name == "frequency" and value:
            return self.catalog.text(f"frequency.{value}", ctx.locale, ctx.wording)
        return value


def _option_key(option: dict[str, Any]) -> str:
    """The sentence of one listed offer; a plan whose last payment differs says so, since
    "12 payments of $104.17" alone reads as $1,250.04."""
    kind = option["offer"].kind
    if kind == "plan" and option.get("last_amount") != option.get("amount"):
        return "option.plan_uneven"
    return f"option.{kind}"


@lru_cache(maxsize=1024)
def _fields(text: str) -> frozenset[str]:
    """The slot names a sentence uses (so only those are formatted, not every result)."""
    return slots(text)


def locale_for(language: str, currency: str) -> str:
    """The Babel locale of a reply in `language` about an account in `currency`."""
    regional = REGIONAL_LOCALES.get(language, {}).get(currency)
    return regional or BABEL_LOCALES.get(language, "en_US")


def money(value: Decimal, currency: str, babel_locale: str) -> str:
    """An amount in the reply's locale."""
    if babel_locale.startswith("es") and (babel_locale, currency) not in OWN_SYMBOL:
        text = format_currency(value, currency, format=CODE_AFTER, locale=babel_locale,
                               currency_digits=True)
    else:
        text = format_currency(value, currency, locale=babel_locale)
    return text.replace("\u00a0", " ")  # Spain's "1.500,00 €" has one: see CODE_AFTER
