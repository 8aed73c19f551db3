"""Seeded generators of small, exactly labeled tasks in the style of BIG-bench.

The paper's 30 tasks (method §10) include ``boolean_expressions``, ``object_counting``,
``web_of_lies`` and ``sports_understanding``. These generators write fresh items of the same
shape with labels that hold by construction, so a simulated annotator can label a demo
project exactly and tests can re-derive every label independently.

Each generator takes a :class:`random.Random` and a wanted answer and returns ``(text,
answer)``; :mod:`dataeff.demo.tasks` draws balanced answers and removes duplicates.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable

Generator = Callable[[random.Random, str], tuple[str, str]]

# --- boolean_expressions ------------------------------------------------------------------

_BOOL_WORDS = {True: "True", False: "False"}


def _bool_term(rng: random.Random, depth: int) -> tuple[str, bool]:
    """A random term: a constant, ``not`` of a term, or a parenthesized binary expression."""
    roll = rng.random()
    if depth == 0 or roll < 0.45:
        value = rng.random() < 0.5
        text = _BOOL_WORDS[value]
        if rng.random() < 0.35:
            return f"not {text}", not value
        return text, value
    if roll < 0.6:
        inner, value = _bool_term(rng, depth - 1)
        return f"not ( {inner} )", not value
    left, lv = _bool_term(rng, depth - 1)
    right, rv = _bool_term(rng, depth - 1)
    if rng.random() < 0.5:
        return f"( {left} and {right} )", lv and rv
    return f"( {left} or {right} )", lv or rv


def boolean_expression(rng: random.Random, answer: str) -> tuple[str, str]:
    """``"not ( True and False ) or False is"`` -> ``"True"``: Python's precedence (not > and
    > or) decides, as in BIG-bench ``boolean_expressions``."""
    while True:
        terms = [_bool_term(rng, 1) for _ in range(rng.randint(2, 3))]
        ops = [rng.choice(("and", "or")) for _ in range(len(terms) - 1)]
        value = _evaluate_chain([v for _, v in terms], ops)
        if _BOOL_WORDS[value] == answer:
            text = terms[0][0]
            for op, (term, _) in zip(ops, terms[1:], strict=True):
                text += f" {op} {term}"
            return f"{text} is", answer


def _evaluate_chain(values: list[bool], ops: list[str]) -> bool:
    """Evaluate ``v0 op v1 op v2`` with ``and`` binding tighter than ``or``."""
    disjuncts = [values[0]]
    for op, value in zip(ops, values[1:], strict=True):
        if op == "and":
            disjuncts[-1] = disjuncts[-1] and value
        else:
            disjuncts.append(value)
    return any(disjuncts)


# --- object_counting ----------------------------------------------------------------------

COUNTING_CATEGORIES: dict[str, tuple[str, ...]] = {
    "fruits": ("apple", "banana", "peach", "plum", "orange", "grape", "strawberry", "nectarine"),
    "vegetables": ("carrot", "potato", "onion", "cabbage", "yam", "leek", "stalk of celery"),
    "musical instruments": ("piano", "flute", "violin", "trumpet", "drum", "clarinet", "harp"),
    "animals": ("cat", "dog", "goat", "rabbit", "snake", "pig", "cow", "duck", "frog"),
    "objects": ("chair", "table", "lamp", "oven", "stove", "bed", "microwave", "couch", "toaster"),
}
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                "ten")  # fmt: skip
COUNTING_ANSWERS = tuple(str(n) for n in range(1, 11))


def plural(noun: str) -> str:
    """English plural of the nouns in :data:`COUNTING_CATEGORIES` (``"peach"`` -> ``"peaches"``)."""
    if " of " in noun:  # "stalk of celery" -> "stalks of celery"
        head, rest = noun.split(" of ", 1)
        return f"{plural(head)} of {rest}"
    if noun.endswith(("ch", "sh", "s")) or noun in ("potato",):
        return noun + "es"
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def _article(noun: str) -> str:
    return "an" if noun[0] in "aeiou" else "a"


def object_counting(rng: random.Random, answer: str) -> tuple[str, str]:
    """``"I have a flute, two pianos, and a goat. How many musical instruments do I have?"``
    -> ``"3"``; items of other categories are distractors (BIG-bench ``object_counting``)."""
    target = int(answer)
    category = rng.choice(sorted(COUNTING_CATEGORIES))
    nouns = list(COUNTING_CATEGORIES[category])
    rng.shuffle(nouns)
    counts: list[tuple[str, int]] = []
    left = target
    for noun in nouns:
        if left == 0:
            break
        k = min(left, rng.randint(1, 3))
        counts.append((noun, k))
        left -= k
    if left:  # the category ran out of nouns: top up the first one
        counts[0] = (counts[0][0], counts[0][1] + left)
    others = [n for c, ns in sorted(COUNTING_CATEGORIES.items()) if c != category for n in ns]
    counts += [(n, rng.randint(1, 2)) for n in rng.sample(others, rng.randint(1, 3))]
    rng.shuffle(counts)
    phrases = [
        f"{_article(noun)} {noun}" if k == 1 else f"{NUMBER_WORDS[k]} {plural(noun)}"
        for noun, k in counts
    ]
    if len(phrases) == 2:
        listing = " and ".join(phrases)
    else:
        listing = ", ".join(phrases[:-1]) + f", and {phrases[-1]}"
    return f"I have {listing}. How many {category} do I have?", answer


# --- web_of_lies --------------------------------------------------------------------------

_NAMES = (
    "Fidel", "Jerry", "Vina", "Millicent", "Raymond", "Kristian", "Delbert", "Ka", "Leda",
    "Shenna", "Jamey", "Alexis", "Sherrie", "Elanor", "Crista", "Osvaldo", "Ryan", "Tamika",
)  # fmt: skip


def web_of_lies(rng: random.Random, answer: str) -> tuple[str, str]:
    """``"Fidel lies. Jerry says Fidel tells the truth. ... Does Jerry tell the truth?"`` ->
    ``"No"``: each speaker is truthful iff their claim about the previous one is right."""
    names = rng.sample(_NAMES, rng.randint(3, 5))
    truthful = rng.random() < 0.5
    sentences = [f"{names[0]} {'tells the truth' if truthful else 'lies'}."]
    for previous, name in itertools.pairwise(names):
        claims_truth = rng.random() < 0.5
        sentences.append(
            f"{name} says {previous} {'tells the truth' if claims_truth else 'lies'}."
        )
        truthful = claims_truth == truthful
    last = names[-1]
    if ("Yes" if truthful else "No") != answer:
        # flip the last claim: that flips the last speaker's truthfulness and nothing else
        claim = sentences[-1]
        flipped = (
            claim.replace("tells the truth.", "lies.")
            if claim.endswith("tells the truth.")
            else claim.replace(" lies.", " tells the truth.")
        )
        sentences[-1] = flipped
    return f"{' '.join(sentences)} Does {last} tell the truth?", answer


# --- sports_understanding -----------------------------------------------------------------

SPORT_ATHLETES: dict[str, tuple[str, ...]] = {
    "soccer": ("Lionel Messi", "Cristiano Ronaldo", "Kylian Mbappe", "Megan Rapinoe"),
    "basketball": ("LeBron James", "Stephen Curry", "Kevin Durant", "Diana Taurasi"),
    "american football": ("Tom Brady", "Patrick Mahomes", "Aaron Rodgers", "Travis Kelce"),
    "baseball": ("Shohei Ohtani", "Aaron Judge", "Mookie Betts", "Clayton Kershaw"),
    "ice hockey": ("Sidney Crosby", "Connor McDavid", "Alex Ovechkin", "Auston Matthews"),
    "tennis": ("Serena Williams", "Roger Federer", "Rafael Nadal", "Naomi Osaka"),
}
SPORT_ACTIONS: dict[str, tuple[str, ...]] = {
    "soccer": ("scored a penalty kick", "took a corner kick", "was flagged offside"),
    "basketball": ("hit a three-pointer", "made a slam dunk", "shot two free throws"),
    "american football": ("threw a touchdown pass", "caught the screen pass", "was sacked"),
    "baseball": ("hit a home run", "stole second base", "hit a double"),
    "ice hockey": ("scored on the power play", "took a slapshot", "was sent to the penalty box"),
    "tennis": ("served an ace", "hit a backhand winner", "won the tiebreak"),
}
_VENUES = ("", " in the final", " in the first half", " last night", " in the playoffs")


def sports_plausibility(rng: random.Random, answer: str) -> tuple[str, str]:
    """``'Is the following sentence plausible? "Tom Brady hit a home run."'`` -> ``"No"``: a
    sentence is plausible iff the athlete plays the sport the action belongs to."""
    sports = sorted(SPORT_ATHLETES)
    sport = rng.choice(sports)
    athlete = rng.choice(SPORT_ATHLETES[sport])
    action_sport = sport if answer == "Yes" else rng.choice([s for s in sports if s != sport])
    action = rng.choice(SPORT_ACTIONS[action_sport])
    sentence = f"{athlete} {action}{rng.choice(_VENUES)}."
    return f'Is the following sentence plausible? "{sentence}"', answer
