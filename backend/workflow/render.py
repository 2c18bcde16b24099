"""A step's wording for one debtor: the variant's, else the step's, else the standard reminder."""

from __future__ import annotations

from backend.services.reminders import reminder_text
from backend.workflow.strategy import Step


def render(step: Step, variant: str | None, language: str, link: str | None) -> str:
    """The text in the debtor's language (English when the step has no translation)."""
    chosen = step.variant(variant)
    templates = (chosen.template if chosen and chosen.template else None) or step.template
    if not templates:
        return reminder_text(language, link)
    text = templates.get(language) or templates.get("en") or next(iter(templates.values()))
    return text.replace("{link}", link or "")


def whatsapp_template(step: Step, variant: str | None) -> str | None:
    """The provider template for WhatsApp outside its 24-hour window."""
    chosen = step.variant(variant)
    return (chosen.whatsapp_template if chosen else None) or step.whatsapp_template
