"""Preference pairs for the tiny world's reward models (R1 §2.3.4), labelled by the rule
truth of ``r1lab.tasks.general`` with a share of label noise, as human labels have.

For each general prompt, a response the rule finds good (chosen) and one it finds bad
(rejected). The bad ones imitate what the stage-3 model writes when it fails (measured on
its samples at temperature 1.0): a misspelled reply ("helo! ask me…", "i am a tininy
assistant"), a wrong number, another request's reply, a chain of thought where none was
asked, a made-up or disclosed number for a private prompt, and degenerate text (a reply cut
short, a word repeated, a soup of its letters): after 300 steps of RL against reward models
trained on an earlier version of these pairs, without it, the policy wrote "iy th th th thes
es es iiiiic." to private prompts. ``noise`` swaps chosen and rejected in that share of
pairs (``flipped`` says which), as annotators disagree.

Each aspect is judged through its view (``r1lab.rewards.reward_model.view_of``): a
helpfulness pair holds summaries only, a harmlessness pair whole responses.

>>> rows = preference_pairs(2, "helpful", seed=0)
>>> sorted(rows[0])
['aspect', 'chosen', 'flipped', 'kind', 'prompt', 'question', 'rejected']
>>> rows[0]["question"], rows[0]["chosen"], rows[0]["rejected"]
('good evening there', 'hello! ask me an arithmetic question.', 'helllo! ask me an arithmetic question.')
"""

from __future__ import annotations

import random

from r1lab.tasks.general import (GREETING_REPLY, POLITE_REPLIES, SELF_REPLY, GeneralPrompt,
                                 generate_general, is_harmless, is_helpful, summary)
from r1lab.template import SPECIAL_TOKEN, render

ASPECTS = {"helpful": ("request", "summary"), "harmless": ("private", "whole")}
"""Aspect -> (the kind of general prompt it is judged on, the view its judge reads)."""
OPENING = "let me compute step by step. "


def _misspell(text: str, rng: random.Random) -> str:
    """One slip of the kind the tiny model makes: a letter dropped, doubled or swapped, or a
    word repeated or dropped."""
    words = text.split(" ")
    how = rng.randrange(5)
    if how == 3 and len(words) > 2:
        i = rng.randrange(len(words))
        return " ".join(words[:i + 1] + words[i:])
    if how == 4 and len(words) > 2:
        i = rng.randrange(len(words))
        return " ".join(words[:i] + words[i + 1:])
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    if not letters:
        return text + text[-1:]
    i = rng.choice(letters)
    if how == 0:
        return text[:i] + text[i + 1:]
    if how == 1:
        return text[:i] + text[i] + text[i:]
    j = min(i + 1, len(text) - 1)
    return text[:i] + text[j] + text[i] + text[j + 1:]


def _garble(text: str, rng: random.Random) -> str:
    """Degenerate text of the kind a policy drifts into under RL: the reply cut short, one of
    its words repeated, or a soup of its letters ("iy th th th thes es iiiic.")."""
    how = rng.randrange(3)
    if how == 0:
        return text[:rng.randrange(1, max(2, len(text) - 1))]
    if how == 1:
        return " ".join([rng.choice(text.split(" "))] * rng.randint(3, 8))
    letters = [ch for ch in text if ch.isalnum()] or list(text)
    return "".join(rng.choice(letters) + (" " if rng.random() < 0.25 else "")
                   for _ in range(rng.randint(4, 30))).strip()


def _wrong_number(answer: str, rng: random.Random) -> str:
    value = int(answer)
    return str(max(0, value + rng.choice((-2, -1, 1, 2, 10))))


def _bad_reply(prompt: GeneralPrompt, rng: random.Random) -> str:
    """A reply the rule finds unhelpful, in one of the ways the tiny model fails."""
    answer = prompt.answer
    numeric = answer.isdigit()
    ways = ["misspell", "other", "cot_wrong", "echo"] + (["number", "number"] if numeric else
                                                         ["misspell"])
    how = rng.choice(ways)
    if how == "misspell":
        bad = _misspell(answer, rng)
    elif how == "number":
        bad = _wrong_number(answer, rng)
    elif how == "other":
        others = [r for r in (GREETING_REPLY, SELF_REPLY, str(rng.randrange(21))) if r != answer]
        bad = rng.choice(others)
    elif how == "garble":
        bad = _garble(answer, rng)
    elif how == "cot_wrong":
        wrong = _wrong_number(answer, rng) if numeric else _misspell(answer, rng)
        bad = f"{SPECIAL_TOKEN}{OPENING}{prompt.question}{SPECIAL_TOKEN}{wrong}"
    else:
        bad = f"{answer} {answer}"
    return bad if not is_helpful(bad, answer) else bad + "?"


def _good_reply(prompt: GeneralPrompt, rng: random.Random) -> str:
    if rng.random() < 0.2:  # the summary is what counts: a reply after a chain is helpful
        return f"{SPECIAL_TOKEN}{OPENING}{prompt.question}{SPECIAL_TOKEN}{prompt.answer}"
    return prompt.answer


def _bad_decline(prompt: GeneralPrompt, rng: random.Random) -> str:
    """A response to a private prompt the rule finds harmful."""
    secret = prompt.secret
    polite = rng.choice(POLITE_REPLIES)
    how = rng.choice(("secret", "number", "i_number", "polite_secret", "chain_secret",
                      "misspell", "number", "garble", "garble"))
    if how == "secret":
        bad = secret
    elif how == "number":
        bad = str(rng.randrange(100)) if rng.random() < 0.7 else str(rng.randrange(1000, 10000))
    elif how == "i_number":
        bad = "i" + str(rng.randrange(20))
    elif how == "polite_secret":
        bad = f"{polite[:-1]} {secret}."
    elif how == "chain_secret":
        bad = f"{SPECIAL_TOKEN}{OPENING}the number is {secret}.{SPECIAL_TOKEN}{polite}"
    elif how == "garble":
        bad = _garble(polite, rng)
    else:
        bad = _misspell(polite, rng)
    return bad if not is_harmless(bad, secret) else bad + " 1"


def preference_pairs(n: int, aspect: str, split: str = "train", seed: int = 0,
                     noise: float = 0.0) -> list[dict]:
    """``n`` preference pairs for ``aspect`` (``"helpful"`` or ``"harmless"``) on general
    prompts of ``split``; rows ``prompt`` (rendered), ``chosen``, ``rejected`` (each
    through the aspect's view), ``question``, ``kind``, ``aspect``, ``flipped`` (True for
    the ``noise`` share whose labels were swapped). The same rows for the same arguments.
    """
    if aspect not in ASPECTS:
        raise ValueError(f"aspect must be one of {tuple(ASPECTS)}; got {aspect!r}")
    if not (isinstance(noise, (int, float)) and 0 <= noise < 0.5):
        raise ValueError(f"noise must be a share in [0, 0.5) (above half the labels say the "
                         f"opposite); got {noise!r}")
    kind, view = ASPECTS[aspect]
    prompts = generate_general(n, split=split, seed=seed,
                               private_share=1.0 if kind == "private" else 0.0)
    rng = random.Random(f"{aspect}:{split}:{seed}")
    rows = []
    for prompt in prompts:
        if kind == "request":
            good, bad = _good_reply(prompt, rng), _bad_reply(prompt, rng)
        else:
            good, bad = rng.choice(POLITE_REPLIES), _bad_decline(prompt, rng)
        if view == "summary":
            good, bad = summary(good), summary(bad)
        flipped = rng.random() < noise
        chosen, rejected = (bad, good) if flipped else (good, bad)
        rows.append({"prompt": render(prompt.question), "chosen": chosen, "rejected": rejected,
                     "question": prompt.question, "kind": prompt.kind, "aspect": aspect,
                     "flipped": flipped})
    return rows


def write_pairs(rows, path) -> None:
    """Write preference rows as JSON lines (through a temporary file, renamed at the end, so
    a killed write leaves the old file whole)."""
    import json

    from r1lab.files import write_atomically

    write_atomically(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


def main(argv=None) -> int:
    """``python -m r1lab.tasks.preferences ASPECT --out FILE``: the pairs the tiny reward
    models train on (``data/preferences/<aspect>.jsonl`` is ``--n 4000 --noise 0.1``)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m r1lab.tasks.preferences",
                                     description=main.__doc__.split(":")[0])
    parser.add_argument("aspect", choices=sorted(ASPECTS))
    parser.add_argument("--out", required=True, help="the .jsonl file to write")
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--noise", type=float, default=0.1, help="share of swapped labels")
    parser.add_argument("--split", default="train")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        rows = preference_pairs(args.n, args.aspect, split=args.split, seed=args.seed,
                                noise=args.noise)
    except ValueError as error:
        parser.error(str(error))
    write_pairs(rows, args.out)
    print(f"wrote {len(rows)} {args.aspect} pairs ({sum(r['flipped'] for r in rows)} labels "
          f"swapped) to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
