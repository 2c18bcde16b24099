"""Small training-data fixtures shared by the NLU tests."""

from __future__ import annotations

from pathlib import Path

SMALL_DATA = {
    "greet": ["hi", "hello", "hey there", "good morning", "hola", "buenos dias", "buenas tardes",
              "hey", "hello there", "hi again", "que tal", "saludos"],
    "affirm": ["yes", "yeah", "sure", "ok sounds good", "si", "claro", "de acuerdo", "yep",
               "that works", "ok deal", "perfecto", "esta bien"],
    "opt_out": ["stop", "STOP texting me", "unsubscribe", "dont message me again",
                "no me escriban mas", "dejen de mandarme mensajes", "stop contacting me",
                "remove my number", "borra mi numero", "quit texting me", "no more texts",
                "baja"],
    "promise_to_pay": ["ill pay [fri](date)", "i can pay [$50](amount) on [the 15th](date)",
                       "te pago el [viernes](date)", "i will pay [tomorrow](date)",
                       "pago [mañana](date)", "ill send it [next monday](date)",
                       "i get paid [friday](date) ill pay then", "pagare el [15](date)",
                       "ill have it by [the 1st](date)", "i promise to pay [monday](date)",
                       "expect it [thursday](date)", "le pago [el lunes](date)"],
}


def write_yaml(folder: Path, name: str, body: str) -> Path:
    """Write one YAML file (dedented by the caller) and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(body, encoding="utf-8")
    return path


def write_small_data(folder: Path) -> Path:
    """One file per intent of SMALL_DATA, in Rasa 3.1 YAML."""
    for intent, examples in SMALL_DATA.items():
        lines = "\n".join(f"    - {e}" for e in examples)
        write_yaml(folder, f"{intent}.yml",
                   f'version: "3.1"\nnlu:\n- intent: {intent}\n  examples: |\n{lines}\n')
    return folder
