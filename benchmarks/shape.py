"""Sizes and the shape of the generated federation: how many of everything, deterministically."""

import math
import random
from dataclasses import dataclass

# Learners (officers with an account) per size; XL is the confederation's real scale.
SIZES = {"XS": 100, "S": 1_000, "M": 10_000, "L": 50_000, "XL": 150_000, "XXL": 300_000}
PROVINCES = 34
UPPER_AT_XL = 700
UNIONS_PER_LEARNER = 130_000 / 150_000
# The courses: the shipped one plus yearly copies; completions of older years are history.
YEARS = (2021, 2023, 2024, 2025, 2026)
NEWEST = YEARS[-1]
# Chance that a learner completed a given module: older courses, the newest one.
P_DONE_OLD, P_DONE_NEW = 0.55, 0.45
VACANCY_RATE = 0.05
NON_STATE_RATE = 0.75
WORST_SHARE = 0.02  # the worst-case district holds this share of all grassroots unions


@dataclass(frozen=True)
class Shape:
    size: str
    learners: int
    unions: int
    uppers: int
    skewed: bool

    @property
    def label(self) -> str:
        return self.size + ("-skewed" if self.skewed else "")


def shape(size: str, skewed: bool = False) -> Shape:
    learners = SIZES[size]
    uppers = max(PROVINCES, min(UPPER_AT_XL, round(UPPER_AT_XL * learners / 150_000)))
    return Shape(size, learners, round(learners * UNIONS_PER_LEARNER), uppers, skewed)


def units_per_upper(s: Shape, rng: random.Random) -> list[int]:
    """How many grassroots unions each upper-level union has; index 0 is the worst case."""
    rest = s.uppers - 1
    if s.skewed:  # Zipf over upper-level unions: a few industrial zones hold thousands
        weights = [1 / (rank**0.9) for rank in range(1, s.uppers + 1)]
    else:
        worst = WORST_SHARE * rest / (1 - WORST_SHARE)
        weights = [worst] + [1.0] * rest
    total = sum(weights)
    counts = [max(1, int(s.unions * w / total)) for w in weights]
    counts[0] += s.unions - sum(counts)  # rounding goes to the worst case
    return counts


def member_count(s: Shape, rng: random.Random) -> int:
    """Members of a grassroots union: log-normal (median ~60, 8% at 1.000 or more); the skewed
    variant draws from a Zipf-like tail up to 10.000."""
    if s.skewed and rng.random() < 0.002:
        return rng.randint(5_000, 10_000)
    value = int(math.exp(rng.gauss(4.1, 1.3)))
    return max(5, min(value, 4_999))


def officer_slots(s: Shape, members: list[int], rng: random.Random) -> list[int]:
    """Extra officers (vice-chairs, group leaders...) per union, so that chairs plus extras make
    the learner count; big unions get more of them, in proportion to their members."""
    chairs = sum(1 for _ in members) * (1 - VACANCY_RATE)
    extra = max(0, s.learners - round(chairs))
    weights = [m if s.skewed else math.sqrt(m) for m in members]
    total = sum(weights) or 1
    slots = [int(extra * w / total) for w in weights]
    short = extra - sum(slots)
    for i in rng.sample(range(len(members)), min(short, len(members))):
        slots[i] += 1
    return slots
