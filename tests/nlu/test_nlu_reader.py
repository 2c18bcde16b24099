"""Strict reader and validator: every kind of problem, each with file, line and fix."""

from pathlib import Path

from nlu_fixtures import write_small_data, write_yaml

from nlu.reader import read_training_data
from nlu.types import ENTITY_TYPES, INTENTS
from nlu.validation import ValidationConfig, validate

ROOT = Path(__file__).resolve().parents[2]
LOOSE = ValidationConfig(min_examples=3, intents=("greet", "affirm", "deny"),
                         require_all_entities=False)


def _problems(folder: Path, config: ValidationConfig = LOOSE) -> list[str]:
    data, problems = read_training_data(folder)
    return [str(p) for p in [*problems, *validate(data, config)]]


def _one(problems: list[str], needle: str) -> str:
    hits = [p for p in problems if needle in p]
    assert hits, f"{needle!r} not in {problems}"
    return hits[0]


def test_reads_examples_with_lines(tmp_path):
    write_yaml(tmp_path, "greet.yml", 'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n'
               "    - hi\n    - hello [tomorrow](date)\n")
    data, problems = read_training_data(tmp_path)
    assert problems == []
    assert [(e.text, e.line) for e in data.examples] == [("hi", 5), ("hello tomorrow", 6)]
    assert data.examples[1].annotations[0].entity == "date"


def test_malformed_yaml(tmp_path):
    write_yaml(tmp_path, "bad.yml", 'version: "3.1"\nnlu:\n- intent: greet\n  examples: [\n')
    assert "bad.yml:" in _one(_problems(tmp_path), "malformed YAML")


def test_unknown_keys_top_and_item(tmp_path):
    write_yaml(tmp_path, "k.yml", 'version: "3.1"\nrules: []\nnlu:\n- intent: greet\n'
               "  exampels: |\n    - hi\n")
    problems = _problems(tmp_path)
    assert "k.yml:2:" in _one(problems, "unknown key 'rules'")
    assert "k.yml:5:" in _one(problems, "unknown key 'exampels'")


def test_wrong_version_and_bad_line(tmp_path):
    write_yaml(tmp_path, "v.yml", "version: 3.1\nnlu:\n- intent: greet\n  examples: |\n"
               "    - hi\n    hello without dash\n")
    problems = _problems(tmp_path)
    assert "v.yml:1:" in _one(problems, "unsupported version")
    assert "v.yml:6:" in _one(problems, "does not start with '- '")


def test_broken_annotation_has_line_and_fix(tmp_path):
    write_yaml(tmp_path, "a.yml", 'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n'
               "    - hi\n    - pay [50 now\n")
    problem = _one(_problems(tmp_path), "broken annotation")
    assert problem.startswith(f"{tmp_path / 'a.yml'}:6:")
    assert "fix:" in problem


def test_example_under_two_intents(tmp_path):
    write_yaml(tmp_path, "a.yml", 'version: "3.1"\nnlu:\n- intent: affirm\n  examples: |\n'
               "    - ok\n- intent: deny\n  examples: |\n    - ok\n")
    clash = _one(_problems(tmp_path), "is under two intents")
    assert "a.yml:8:" in clash
    assert "(docs/TAXONOMY.md, Hard cases)" in clash
    assert "## Hard cases" in (ROOT / "docs" / "TAXONOMY.md").read_text(encoding="utf-8")


def test_near_duplicate_across_intents(tmp_path):
    write_yaml(tmp_path, "a.yml", 'version: "3.1"\nnlu:\n- intent: affirm\n  examples: |\n'
               "    - sounds good to me!\n    - claro que si\n- intent: deny\n  examples: |\n"
               "    - Sounds good to me\n    - claro que no\n    - sounds goood to me\n")
    problems = _problems(tmp_path)
    assert len([p for p in problems if "near-duplicate" in p]) == 2
    assert not [p for p in problems if "claro que no" in p]


def test_too_few_examples_and_missing_intent(tmp_path):
    write_yaml(tmp_path, "a.yml", 'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n'
               "    - hi\n")
    problems = _problems(tmp_path)
    assert "a.yml:5:" in _one(problems, "intent 'greet' has 1 examples (minimum 3)")
    _one(problems, "intent 'deny' has 0 examples")


def test_unknown_intent_and_entity(tmp_path):
    write_yaml(tmp_path, "a.yml", 'version: "3.1"\nnlu:\n- intent: gret\n  examples: |\n'
               "    - hi [bob](name)\n")
    problems = _problems(tmp_path)
    unknown = _one(problems, "unknown intent 'gret'")
    assert "a.yml:5:" in unknown
    # The fix names every valid intent and a file the repository ships.
    assert "fix: use one of greet, affirm, deny (meanings in docs/TAXONOMY.md)" in unknown
    assert (ROOT / "docs" / "TAXONOMY.md").is_file()
    assert "a.yml:5:" in _one(problems, "unknown entity 'name'")


def test_the_taxonomy_the_fixes_point_to_lists_every_label():
    text = (ROOT / "docs" / "TAXONOMY.md").read_text(encoding="utf-8")
    rows = [line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| ")]
    assert rows[1:] == list(INTENTS)  # rows[0] is the header
    assert all(f"`{entity}`" in text for entity in ENTITY_TYPES)


def test_entity_never_annotated(tmp_path):
    write_small_data(tmp_path)
    config = ValidationConfig(min_examples=3, intents=("greet", "affirm", "opt_out",
                                                       "promise_to_pay"))
    problems = _problems(tmp_path, config)
    _one(problems, "entity 'frequency' is never annotated")
    assert not [p for p in problems if "'date' is never" in p]


def test_synonyms_regex_lookup(tmp_path):
    write_yaml(tmp_path, "lookups.yml", 'version: "3.1"\nnlu:\n- synonym: monthly\n'
               "  examples: |\n    - al mes\n- regex: account\n  examples: |\n    - \\d{8}\n"
               "    - ([\n- lookup: banks\n  examples: |\n    - chase\n")
    data, problems = read_training_data(tmp_path)
    assert data.synonyms == {"al mes": "monthly"}
    assert data.regexes == {"account": ["\\d{8}"]}
    assert data.lookups == {"banks": ["chase"]}
    assert [p.line for p in problems] == [9]


def test_clean_small_data_has_no_problems(tmp_path):
    write_small_data(tmp_path)
    data, problems = read_training_data(tmp_path)
    config = ValidationConfig(min_examples=10, intents=tuple(sorted(set(data.labels))),
                              require_all_entities=False)
    assert problems == [] and validate(data, config) == []
