"""Builds notebooks/03b_tiny_world.ipynb (v2) from the cell sources below."""
import json
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell

PATH = "/work/main/notebooks/03b_tiny_world.ipynb"
IGNORE = {"tags": ["nbval-ignore-output"]}
cells = []


def md(text):
    cells.append(new_markdown_cell(text.strip("\n")))


def code(text, ignore=False):
    cells.append(new_code_cell(text.strip("\n"), metadata=dict(IGNORE) if ignore else {}))


md(r"""
# 03b · The tiny world: a task, a base model, and its profile

**The paper's starting point (R1 §2.2).** DeepSeek-R1-Zero is RL applied *directly* to
DeepSeek-V3-Base, with no supervised step first. RL does not teach new skills from nothing: it
raises the probability of behaviours the base model already produces now and then. Long chains
of thought, re-checking ("wait…"), mixing languages: all were latent in a model pretrained on the
web, and RL amplified the ones that earned reward.

To run that experiment on a laptop, r1lab builds a miniature of the whole setting:

1. **a task** with exact answers a rule can check: integer arithmetic, "What is 7-2\*3+5?";
2. **a pretraining corpus** that plays the web: mostly direct answers; a minority of
   step-by-step reasoning inside the R1 tags, some of it mixing English and Chinese, whose
   steps sometimes *slip* (a forgotten carry), so that an unchecked chain can end on a wrong
   answer; some *careful* chains that re-check every step and fix a slip on the spot; and
   some wrong or badly formatted text;
3. **a tiny base model** (a Llama-architecture transformer that r1lab trains on CPU) whose
   measured *profile* leaves RL two things to find: reasoning, which it seldom does unprompted,
   and checking, which it seldom does even when it reasons.

Checking is what lets the tiny world test more than a switch: R1-Zero's RL should not only turn
reasoning on but make it *better* (R1 §2.2.4 watches reflection grow over training). Section 4
names the bar that tells the two apart, P_think.

This notebook teaches `r1lab.tasks`, `r1lab.tiny` (the tiny world's models) and `r1lab.eval`.
It runs the tiny world only; at GPU scale, profile a real base from a shell with
`r1lab eval Qwen/Qwen2.5-Math-1.5B --task gsm8k:openai/gsm8k --k 4`.
""")

code(r'''
from r1lab.notebook import quiet_downloads, require_tiny

require_tiny("03b", "r1lab eval Qwen/Qwen2.5-Math-1.5B --task gsm8k:openai/gsm8k --k 4")
quiet_downloads()
''', ignore=True)

code(r'''
import json
import math
import re
import subprocess
import sys
import textwrap
import time
from dataclasses import asdict
from pathlib import Path

import matplotlib.pyplot as plt
from transformers import AutoModelForCausalLM, AutoTokenizer

from r1lab.eval import evaluate
from r1lab.rewards.language import mixes_languages
from r1lab.rewards.reflection import rechecks
from r1lab.sources import REPO_ROOT
from r1lab.tasks import (EOS, ArithmeticConfig, Problem, generate, slip, solution_chain,
                         worked_chain)
from r1lab.tasks.arithmetic import worked_steps
from r1lab.template import render
from r1lab.tiny.card import BASE_TARGETS, MAX_NEW_TOKENS, check_targets
from r1lab.tiny.corpus import CorpusConfig, documents
''', ignore=True)

md(r"""
## 1 · The task

A problem is an integer expression without division (so every answer is exact), asked in English
or Chinese. Its **chain** rewrites the expression one operation at a time, with the usual
precedence: parentheses first, then `*`, then `+`/`-` left to right. The chain is the reasoning a
step-by-step solver writes down; its last item is the answer.
""")

code(r'''
for problem in generate(4, split="train", seed=0) + generate(
    2, split="train", seed=1, config=ArithmeticConfig(zh_fraction=1.0)
):
    print(f"{problem.question:32s} {' -> '.join(problem.chain)}")
''')

code(r'''
assert solution_chain("2+3*4") == ("2+3*4", "2+12", "14")  # the walkthrough's question
config = ArithmeticConfig()
print(f"operands {config.operands}, digits {config.digits}, "
      f"operators {config.operators!r}")
train = {p.expression for p in generate(5000, split="train", seed=0)}
test = {p.expression for p in generate(2000, split="test", seed=0)}
assert not train & test  # the split is a hash of the expression: never shared
print(f"{len(train)} train and {len(test)} test expressions drawn, "
      f"{len(train & test)} shared")
''')

md(r"""
Train and test are split by a hash of the expression, so no test question is ever seen in
pretraining or RL, whatever the seed or the number drawn.

## 2 · The corpus: the tiny world's "web"

`r1lab.tiny.corpus` writes one document per training problem, its chains of thought in the
task's own sentences (`r1lab.tasks.chains`). Two habits make a chain something that can be
written well or badly:

* a step can **slip**, in the one way the tiny world allows for that step
  (`r1lab.tasks.slip`): an addition that forgets its carry, a subtraction that forgets its
  borrow, a product read one times-table row short. A step with nothing to forget cannot slip.
  A slip that nothing catches carries through to the answer;
* a **careful** chain re-computes every step right after writing it, in brackets; when the
  check disagrees, it says so and goes on from the corrected expression.

One problem whose three steps can each slip, written with its first step slipped, without and
with checks (`r1lab.tasks.worked_chain`):
""")

code(r'''
example = Problem("What is 7+8*6-9?", "46", expression="7+8*6-9")
for step in worked_steps(example.expression):
    print(f"{step.operation} = {step.result}, written when it slips: {slip(step)}")
for check in (False, True):
    chain, answer = worked_chain(example, "en", slips={0}, check=check)
    print(f"\ncheck={check}, ends on {answer}:")
    print(textwrap.fill(chain, 88, initial_indent="  ", subsequent_indent="  "))
''')

md(r"""
The template is the R1-Zero one (notebook 01); what follows `Assistant:` is what the base model
learns to continue with. Draw 20,000 documents and, beside them, the problems they were written
from (`documents` draws exactly these problems, in this order), so that every document can be
graded against its true answer:
""")

code(r'''
corpus = CorpusConfig()
N_DOCS = 20_000
docs = documents(N_DOCS, seed=0, config=corpus)
asked = ArithmeticConfig(**{**corpus.task.__dict__, "zh_fraction": corpus.zh_questions})
written_from = generate(N_DOCS, split="train", seed=0, config=asked)
''')

md(r"""
Every document is one of four kinds: direct, reasoning, noisy, or no template. A *reasoning*
document thinks and then answers, and its think block closes on the very answer it gives. A
*noisy* one is wrong or badly formatted; some noisy documents think too (a chain with an altered
result and an answer tag that contradicts its closing; an answer outside its tags), and they
count as noisy, not as reasoning. Re-checking is read with `r1lab.rewards.reflection.rechecks`,
the rule the evaluation uses on the model's chains.
""")

code(r'''
REASONED = re.compile(r"<think>(.*(?:so the answer is |所以答案是 )(-?\d+)[.。])</think>"
                      rf"<answer>(-?\d+)</answer>{re.escape(EOS)}", re.DOTALL)


def read_document(doc, problem):
    """Which kind of document ``doc`` is; for a reasoning one, what its chain does."""
    if "Assistant:" not in doc:
        return {"kind": "no template", "text": doc, "checks": rechecks(doc)}
    text = doc.split("Assistant:")[-1]
    if text == f"<answer>{problem.answer}</answer>{EOS}":
        return {"kind": "direct", "text": text}
    cot = REASONED.fullmatch(text)
    if cot is None or cot[2] != cot[3]:  # the closing and the answer disagree: noise
        return {"kind": "noisy", "text": text}
    return {"kind": "reasoning", "text": text, "problem": problem, "lang": problem.lang,
            "checks": rechecks(cot[1]), "wrong": cot[3] != problem.answer,
            "mixed": mixes_languages(cot[1], problem.lang),
            "fixes": cot[1].count(", not ") + cot[1].count("，不是 ")}


read = [read_document(doc, problem) for doc, problem in zip(docs, written_from)]
''')

md(r"""
One document of each kind (the first one found):
""")

code(r'''
def first(kind, **wanted):
    return next(r for r in read if r["kind"] == kind
                and all(r.get(field) == value for field, value in wanted.items()))


examples = {
    "direct": first("direct"),
    "reasoning": first("reasoning", checks=False, wrong=False, mixed=False, lang="en"),
    "reasoning, mixing languages": first("reasoning", checks=False, wrong=False,
                                         mixed=True),
    "reasoning with an uncaught slip (wrong answer)": first("reasoning", wrong=True),
    "careful: checks every step": first("reasoning", checks=True, fixes=0, lang="en"),
    "careful: a check catches a slip": first("reasoning", fixes=1, lang="en"),
    "noisy": first("noisy"),
    "no template": first("no template"),
}
for kind, record in examples.items():
    print(f"{kind}:")
    print(textwrap.indent(textwrap.fill(record["text"], 86), "  "))
    if record.get("wrong"):
        print(f"  (the true answer is {record['problem'].answer})")
''')

md(r"""
Now the whole corpus, measured. Each knob of `CorpusConfig` is a share of some documents; count
that share in the 20,000. The slip rate is read off the careful chains, where every slip is
written out and fixed: fixes per step that could slip.
""")

code(r'''
plain = [r for r in read if r["kind"] == "no template"]
reasoning = [r for r in read if r["kind"] == "reasoning"]
careful = [r for r in reasoning if r["checks"]]
careless = [r for r in reasoning if not r["checks"]]
fixes = sum(r["fixes"] for r in careful)
could_slip = sum(slip(step) is not None  # a careful chain's steps all end up right
                 for r in careful for step in worked_steps(r["problem"].expression))
slipped = [True] * fixes + [False] * (could_slip - fixes)  # a flag per step that could
''')

code(r'''
kinds = [r["kind"] for r in read]
templated = [kind for kind in kinds if kind != "no template"]
planted = {  # knob: (what its value is a share of, one flag per item counted)
    "reasoning": ("template docs reasoning", [k == "reasoning" for k in templated]),
    "noisy": ("template docs that are noisy", [k == "noisy" for k in templated]),
    "plain_chains": ("docs with no template", [k == "no template" for k in kinds]),
    "plain_checks": ("no-template chains that re-check", [r["checks"] for r in plain]),
    "mixed_cot": ("reasoning docs mixing languages", [r["mixed"] for r in reasoning]),
    "reflection": ("reasoning docs that re-check", [r["checks"] for r in reasoning]),
    "slip": ("steps that could slip and did", slipped),
    "zh_questions": ("questions in Chinese", [p.lang == "zh" for p in written_from]),
}
''')

code(r'''
print(f"{'knob':14s} {'value':>6s} {'measured':>8s}  share of")
for knob, (what, flags) in planted.items():
    print(f"{knob:14s} {getattr(corpus, knob):6.2f} {sum(flags) / len(flags):8.3f}  "
          f"{what} (of {len(flags):,})")
operands = sorted({len(p.chain) for p in written_from})  # one chain item per operand
print(f"{'task.operands':14s} {str(corpus.task.operands):>6s} "
      f"{f'{operands[0]}-{operands[-1]}':>8s}  operands per question")
wrong = {name: sum(r["wrong"] for r in group) / len(group)
         for name, group in (("careful", careful), ("careless", careless))}
for name, share in wrong.items():
    print(f"{'(no knob)':14s} {'':6s} {share:8.3f}  {name} reasoning docs ending on a "
          "wrong answer")
''')

code(r'''
for knob, (what, flags) in planted.items():  # within 3 standard errors of the knob
    value, share = getattr(corpus, knob), sum(flags) / len(flags)
    assert abs(share - value) < 3 * math.sqrt(value * (1 - value) / len(flags)), knob
assert (operands[0], operands[-1]) == corpus.task.operands
assert wrong["careful"] == 0  # a check never slips, so it catches every slip
assert wrong["careless"] > 0.2  # ... while unchecked slips end a clear share wrong
''')

md(r"""
So the tiny world *plants* these behaviours: how often a chain slips, how often a chain checks
its steps and how often it mixes languages are knobs of `CorpusConfig`, and the corpus carries
each at its knob's rate (the asserts: within three standard errors). A check in this world never
slips, so checking catches every slip: careful chains always end on the right answer, careless
ones end wrong in the share the last row shows. That a check is always right is a design choice
of the lab, not a fact about reasoning (a real model's "wait, let me check" can be wrong too); it
makes checking a habit that pays for certain, and a minority one, for RL to find.

## 3 · The tokenizer and the model

The tokenizer is byte-pair encoding trained on the corpus, with two tiny-world choices: every digit
is its own token, and merges may cross spaces, so the long template and the fixed phrases of a
chain collapse into a few tokens and the model's compute goes to the arithmetic. The R1 tags are
whole tokens.
""")

code(r'''
MODEL = REPO_ROOT / "data/models/tiny-base"
model = AutoModelForCausalLM.from_pretrained(MODEL)
tokenizer = AutoTokenizer.from_pretrained(MODEL)
''', ignore=True)

code(r'''
# The base model was pretrained on the very corpus section 2 measured (CorpusConfig()).
pretrained = json.loads((MODEL / "pretrain.json").read_text())["config"]
assert pretrained["corpus"] == json.loads(json.dumps(asdict(corpus)))
print(f"pretrained on {pretrained['documents']:,} documents of that corpus")
''')

code(r'''
prompt = render("What is 7-2*3+5?")
print(len(prompt.split()), "words ->", len(tokenizer(prompt)["input_ids"]), "tokens")
chain, answer = worked_chain(example, "en", slips={0}, check=True)  # as in section 2
print("|".join(tokenizer.tokenize(f"<think>{chain}</think><answer>{answer}</answer>")))
n_params = sum(p.numel() for p in model.parameters())
c = model.config
print(f"{type(model).__name__}: {n_params:,} parameters, {c.num_hidden_layers} layers, "
      f"width {c.hidden_size}, vocabulary {c.vocab_size}")
''')

md(r"""
## 4 · The measured profile

The model card (`data/models/tiny-base/README.md`, numbers in `profile.json`) records three
evaluations on held-out questions with the paper's protocol (temperature 0.6, top-p 0.95,
k samples per question, pass@1 averaged over samples):

* **unprompted**: the template alone, as RL will see it;
* **made to reason**: the prompt ends with `<think>`, so the model must write a chain first.
  Its accuracy (`reasoning_accuracy`) is **P_think**, what the base model already gets right
  whenever it reasons. P_think is the control R1-Zero must beat in notebook 04: a policy that
  only learned to *start* reasoning, with the base model's chains, would score P_think; to go
  past it, RL must make the chains themselves better, for instance by checking their steps;
* **made to answer directly**: the prompt ends with `<answer>`.

The made-to-reason run also counts the chains that re-check a step (`recheck_rate`) and the
accuracy of those that do and those that do not.
""")

code(r'''
card = json.loads((MODEL / "profile.json").read_text())
for name, value in card["profile"].items():
    if not isinstance(value, list):
        print(f"{name:24s} {'n/a' if value is None else f'{value:.3f}'}")
''')

md(r"""
Now reproduce the card. The unprompted run goes through the command line, exactly the command the
card lists; the other two call `r1lab.eval.evaluate`, which the command wraps, with the card's
protocol. This is the notebook's slowest cell; it prints how long it took.
""")

code(r'''
start = time.time()
protocol = card["protocol"]
command = card["commands"]["unprompted"].split()  # "r1lab eval data/models/tiny-base …"
command = [sys.executable, "-m", *command, "--json", "/tmp/unprompted.json",
           "--no-progress"]
subprocess.run(command, cwd=REPO_ROOT, check=True, capture_output=True)
unprompted = json.loads(Path("/tmp/unprompted.json").read_text())
problems = generate(protocol["n"], split="test", seed=protocol["seed"])
settings = {key: protocol[key] for key in ("seed", "max_new_tokens", "batch_size")}
runs = {prefill: evaluate(model, tokenizer, problems, protocol["k"], prefill=prefill,
                          progress=False, **settings)
        for prefill in ("<think>", "<answer>")}
print(f"three evaluations in {time.time() - start:.0f} s")
''', ignore=True)

code(r'''
measured = {
    "pass_at_1": unprompted["pass_at_1"],
    "reasoning_rate": unprompted["reasoning_rate"],
    "reasoning_accuracy": runs["<think>"].pass_at_1,
    "direct_accuracy": runs["<answer>"].pass_at_1,
    "mixing_rate": runs["<think>"].mixing_rate,
    "recheck_rate": runs["<think>"].recheck_rate,
}
for name, value in measured.items():
    print(f"{name:20s} notebook {value:.3f}   card {card['profile'][name]:.3f}")
''', ignore=True)

code(r'''
# Same seed, same protocol: the numbers agree with the card (to sampling noise across
# machines).
for name, value in measured.items():
    assert abs(value - card["profile"][name]) < 0.03, name
# ... and the profile is what RL needs (the tiny world's targets):
assert not check_targets(measured), check_targets(measured)
print("targets:", {name: f"[{low:.0%}, {high:.0%}]"
                   for name, (low, high) in BASE_TARGETS.items()})
''')

code(r'''
reasoned, direct = runs["<think>"], runs["<answer>"]
rows = [("P_think, accuracy when made to reason", reasoned.pass_at_1),
        ("accuracy when made to answer directly", direct.pass_at_1),
        ("share of chains that re-check a step", reasoned.recheck_rate),
        ("  accuracy of chains that re-check", reasoned.accuracy_when_rechecking),
        ("  accuracy of chains that do not", reasoned.accuracy_without_recheck)]
for label, value in rows:
    print(f"{label:40s} {value:.3f}")
checked = sum(r["rechecks"] for r in reasoned.records)
print(f"{checked} of {len(reasoned.records)} chains re-check; "
      f"{reasoned.mean_reasoning_tokens:.0f} tokens per chain on average")
''', ignore=True)

code(r'''
assert reasoned.pass_at_1 > direct.pass_at_1 + 0.15  # reasoning pays, by many SEs
''')

md(r"""
Read the profile as RL will meet it. Unprompted, the model seldom reasons (`reasoning_rate`).
Made to reason, it is right far more often than when made to answer directly, yet wrong on a
large share of questions: that accuracy, P_think, is the bar. Only a minority of its chains
re-check a step. So R1-Zero's RL (notebook 04) has two things to find: reasoning, whose samples
earn the accuracy reward more often than direct answers (but a policy that always reasoned
the way the base model does would only reach P_think), and better chains, the only way past
P_think. Whether checking is such a way depends on where it pays, which the next section
measures.

## 5 · Accuracy by problem length: reasoning, answering directly, re-checking
""")

md(r"""
The tiny world's questions all have 6-7 operands. To see the trend, evaluate the same model on
shorter and longer problems too (2 to 7 operands; 600 questions, k = 4, both ways), and split
the made-to-reason samples by whether their chain re-checks a step:
""")

code(r'''
spread = generate(600, split="test", seed=0, config=ArithmeticConfig(operands=(2, 7)))
spread_runs = {prefill: evaluate(model, tokenizer, spread, 4, prefill=prefill,
                                 max_new_tokens=MAX_NEW_TOKENS, batch_size=256,
                                 progress=False)
               for prefill in ("<think>", "<answer>")}
''', ignore=True)

code(r'''
def correct_by_ops(records, problems, keep=lambda record: True):
    """{operations in the problem: [correct or not, one per record kept]}."""
    by_ops = {}
    for record in filter(keep, records):
        ops = len(problems[record["index"]].chain) - 1
        by_ops.setdefault(ops, []).append(record["correct"])
    return dict(sorted(by_ops.items()))


def accuracy(by_ops, at_least=10):
    """{operations: share correct}, without the points of under at_least samples."""
    return {ops: sum(v) / len(v) for ops, v in by_ops.items() if len(v) >= at_least}


def rechecked(record):
    return record["rechecks"]


def not_rechecked(record):  # a chain that closed its think block without re-checking
    return record["reasons"] and not record["rechecks"]
''')

code(r'''
def by_length(think_run, answer_run, problems):
    """The figure's four lines: {label: {operations: [correct or not, …]}}."""
    chains = think_run.records
    return {
        "made to reason": correct_by_ops(chains, problems),
        "answering directly": correct_by_ops(answer_run.records, problems),
        "made to reason, re-checks": correct_by_ops(chains, problems, rechecked),
        "made to reason, no re-check": correct_by_ops(chains, problems, not_rechecked),
    }


def show(lines):
    for label, by_ops in lines.items():
        print(f"{label:32s}", "  ".join(f"{ops}: {sum(v) / len(v):.2f} ({len(v)})"
                                         for ops, v in by_ops.items()))


curves = by_length(spread_runs["<think>"], spread_runs["<answer>"], spread)
''')

code(r'''
fig, ax = plt.subplots(figsize=(6.5, 4))
for label, by_ops in curves.items():
    points = accuracy(by_ops)
    style = "--" if "check" in label else "-"
    ax.plot(list(points), list(points.values()), style, marker="o", label=label)
ax.set(title="Tiny base model: accuracy by problem length",
       xlabel="operations in the problem", ylabel="accuracy (pass@1)", ylim=(0, 1),
       xticks=list(curves["made to reason"]))
ax.legend(fontsize=8)
plt.show()
show(curves)  # accuracy (samples) per number of operations
''', ignore=True)

md(r"""
What to see. At every length from 2 to 6 operations the chain beats the direct answer, and both
fall from 3 operations to 6: a direct answer must do the whole computation inside one forward
pass of four layers, while the chain spends one written step per operation. On the
2-operand problems (1 operation), which the corpus never showed, both collapse: a pretrained
model can only reason the way its data taught it, which is why R1-Zero's RL can amplify
reasoning but not invent it. The dashed lines split the made-to-reason samples that closed
their think block by whether they re-check (the solid line also counts the samples that never
closed it, so it can sit below both). Where the re-checking line lies above the other, checking
paid; with few re-checking samples per point (the counts in brackets), read those two lines as
rough.

The card's run of section 4 has many more samples per length, on the task's own questions (6-7
operands, so 5-6 operations):
""")

code(r'''
on_task = by_length(reasoned, direct, problems)  # section 4's run: 500 questions x k
show(on_task)
''', ignore=True)

md(r"""
There the split is clear on 5-operation problems, where chains that re-check are right more
often than chains that do not, and gone on 6-operation ones, where the two are about equally
accurate. A check only pays if it is right. In the corpus it always is; count how often the
base model's own checks get their arithmetic wrong:
""")

code(r'''
CHECK = re.compile(r"(?:\(check: |（检查：)(-?\d+)([-+*])\(?(-?\d+)\)? = (-?\d+)")
APPLY = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}


def miscomputed(record):
    """The checks in record's chain whose own arithmetic is wrong."""
    return [check for check in CHECK.findall(record["completion"])
            if APPLY[check[1]](int(check[0]), int(check[2])) != int(check[3])]


for ops in (5, 6):
    chains = [r for r in reasoned.records
              if rechecked(r) and len(problems[r["index"]].chain) - 1 == ops]
    written = sum(len(CHECK.findall(r["completion"])) for r in chains)
    wrong = sum(len(miscomputed(r)) for r in chains)
    print(f"{ops} operations: {written} checks written, {wrong / written:.1%} of them "
          "with wrong arithmetic")
for record in [r for r in reasoned.records if not r["correct"] and miscomputed(r)][:1]:
    print(f"\nfor example ({record['question']} gold {record['answer']}):")
    print(textwrap.fill(record["completion"], 88))
''', ignore=True)

md(r"""
The model has learned the form of a check better than its substance: some of its checks
miscompute, more often on the 6-operation problems than on the 5-operation ones, and a chain
of six steps gives six chances for that. A check also re-computes only the operation, so it
cannot catch a term miscopied while the rest of the expression is rewritten. So in this base
model re-checking pays on part of the task only: RL that makes the model check more can raise
accuracy only as far as its checks are right. Whether it does is what notebook 04 measures.
""")

code(r'''
spread_accuracy = accuracy(curves["made to reason"])
task_acc = {label: accuracy(by_ops) for label, by_ops in on_task.items()}
# 2 operands, never in the corpus: the chain habit breaks.
assert spread_accuracy[1] < spread_accuracy[3] - 0.3
# On the longest problems the chain beats the direct answer.
assert task_acc["made to reason"][6] > task_acc["answering directly"][6] + 0.15
# On 5-operation problems the chains that re-check beat those that do not (~4 SEs).
assert (task_acc["made to reason, re-checks"][5]
        > task_acc["made to reason, no re-check"][5])
''')

md(r"""
## 6 · Samples

The same question, sampled several times unprompted and made to reason (sampled text varies
between machines, so nbval does not compare this cell's output).
""")

code(r'''
question = problems[3]
for report, label in [(runs["<think>"], "reasoning"), (runs["<answer>"], "direct")]:
    for record in [r for r in report.records if r["index"] == 3][:3]:
        mark = "right" if record["correct"] else "wrong"
        print(f"{label:9s} {mark:5s} {record['completion'][:100]}")
print("gold:", question.answer, "| chain:", " -> ".join(question.chain))
''', ignore=True)

md(r"""
And a chain in which the base model's own check caught a slip (", not …", "，不是 …") and
went on to the right answer, if the made-to-reason run wrote one:
""")

code(r'''
def caught_a_slip(record):
    text = record["completion"]
    return record["correct"] and (", not " in text or "，不是 " in text)


caught = [r for r in runs["<think>"].records if caught_a_slip(r)]
print(f"{len(caught)} of {len(runs['<think>'].records)} sampled chains caught a slip "
      "and ended right")
for record in caught[:1]:
    print(f"question: {record['question']}  gold: {record['answer']}")
    print(textwrap.fill(record["completion"], 88))
''', ignore=True)

md(r"""
## 7 · Nothing in the evaluation is tiny-specific

Everything above goes through `AutoModelForCausalLM`, `AutoTokenizer`, the R1-Zero template and
`r1lab.eval.evaluate`; only the model folder and the questions (`generate`) belong to the tiny
world. A real base takes the same path from a shell (`r1lab eval Qwen/Qwen2.5-Math-1.5B --task
gsm8k:openai/gsm8k`, with `r1lab.tasks.load_gsm8k` / `load_math` in place of `generate`); this
notebook itself stays in the tiny world, because its asserts check the tiny base's profile. To see
that the code does not care which model it is handed, evaluate the lab's second model, the smaller
*student* that the distillation stage will teach, through the very same call:
""")

code(r'''
student_dir = REPO_ROOT / "data/models/tiny-student"
student = AutoModelForCausalLM.from_pretrained(student_dir)
student_tok = AutoTokenizer.from_pretrained(student_dir)
report = evaluate(student, student_tok, problems[:100], k=4, prefill="<think>",
                  max_new_tokens=MAX_NEW_TOKENS, batch_size=256, progress=False)
print(f"student: {sum(p.numel() for p in student.parameters()):,} parameters, "
      f"accuracy when made to reason {report.pass_at_1:.2f}")
''', ignore=True)

md(r"""
## Try this

* Retrain a small model with `r1lab pretrain base --documents 50000 --out /tmp/my-base`, or
  change its corpus first: `pretrain(replace(PRESETS["base"], documents=50000,
  corpus=CorpusConfig(reflection=0.5)), "/tmp/my-base")` (from `r1lab.tiny.pretrain`). With
  careful chains common in the corpus, how do `recheck_rate` and P_think move, and how much is
  left for RL to find? A base that already always reasons and checks leaves R1-Zero nothing to
  discover.
* The same with `CorpusConfig(slip=0.0)`: chains never slip, so a check has nothing to catch.
  Does re-checking still separate right chains from wrong ones, and is there anything left for
  RL beyond switching reasoning on?
* Raise the difficulty (`ArithmeticConfig(operands=(5, 6))`) and re-plot section 5.
* Evaluate with `temperature=0` (greedy). The paper prefers sampling: greedy decoding repeats
  itself more and gives noisier per-question estimates.
""")

old = nbformat.read(PATH, as_version=4)
nb = nbformat.v4.new_notebook(cells=cells)
nb.metadata = {k: v for k, v in old.metadata.items() if k != "widgets"}
nbformat.validate(nb)
out = sys.argv[1] if len(sys.argv) > 1 else PATH
nbformat.write(nb, out)
print("wrote", out, len(cells), "cells")
