"""Calories: the energy of what was walked, estimated from METs as a range.

Pure: plain functions over the walked parts of a walk (stats.WalkedPart: a kind, the seconds
walked and the speed hint); stats.py adds them up per walk and per week.

Energy is estimated from METs (metabolic equivalents): ``kcal = MET x body mass (kg) x hours``.
Worked example: 70 kg walking backwards 20 minutes at 6.0 METs = 6.0 x 70 x 1/3 = 140 kcal.

- Forward walking (warm-up, forward, cool-down), by treadmill speed, from the Compendium of
  Physical Activities (Ainsworth et al. 2011): 2.0 mph 2.8 METs, 2.5 mph 3.0, 3.0 mph 3.5,
  3.5 mph 4.3, and its "4.0 mph, very brisk" entry, 5.0, linearly
  interpolated. Below 2.0 mph the Compendium has one entry, "walking, less than 2.0 mph,
  strolling, very slow" = 2.0 METs: the curve falls linearly from 2.8 METs at
  2.0 mph to 2.0 METs at 1.0 mph and stays there (never lower), instead of jumping at 2 mph.
- Backward walking: Compendium code 17320, "walking, backwards, 3.5 mph, level" = 6.0 METs,
  scaled to the segment's speed along the forward curve: 6.0 x forward(v) / forward(3.5).
  Cross-check: the product brief says backward walking costs roughly 10-20% more than
  forward at the same pace (about 3 mph), while the scaled Compendium figure is about 40%
  more. The two disagree, so the backward MET range spans both: from forward(v) x 1.10 to
  the larger of forward(v) x 1.20 and the scaled Compendium value.
- Rest at the rail: "standing quietly", 1.3 METs (Compendium 2011).
- A segment with no speed hint is taken at 2.5 mph forward or 1.5 mph backward (the
  programmes' usual hints).

The result is a RANGE, not one number, for two reasons: the backward-walking sources above
disagree, and the 1-MET convention (3.5 ml O2/kg/min) overestimates resting expenditure by
about 20% (Byrne et al., J Appl Physiol 2005), so the low end also takes 20% off:

    low  = sum(MET_low  x kg x h) x (1 - 0.20)
    high = sum(MET_high x kg x h)
    estimate = sum(mid-range MET x kg x h)     (forward walking: the Compendium value)

No weight set: no calories. A made-up default weight would give a confident-looking number
that is wrong for most people, so the API says "set your weight to see calories" instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .plans import BACKWARD_KINDS, REST_KINDS

if TYPE_CHECKING:
    from .stats import WalkedPart

# (mph, METs), Compendium 2011, level ground: "less than 2.0 mph, strolling" (held from
# 1.0 mph down), then 2.0, 2.5, 3.0, 3.5 and 4.0 mph.
FORWARD_METS: tuple[tuple[float, float], ...] = (
    (1.0, 2.0),
    (2.0, 2.8),
    (2.5, 3.0),
    (3.0, 3.5),
    (3.5, 4.3),
    (4.0, 5.0),
)
# Compendium 2011 code 17320: walking, backwards, 3.5 mph, level.
BACKWARD_REFERENCE_MPH = 3.5
BACKWARD_REFERENCE_METS = 6.0
# "Roughly 10-20% more than forward walking at the same pace" (the product brief's article;
# docs/sources.md).
BACKWARD_RULE_LOW = 1.10
BACKWARD_RULE_HIGH = 1.20
# Compendium 2011, "standing quietly": a rest at the rail.
STANDING_METS = 1.3
# Byrne et al. 2005: the 1-MET convention overestimates resting expenditure by about 20%.
ONE_MET_OVERESTIMATE = 0.20
# Speeds assumed for a segment without a hint (the programmes' usual hints).
ASSUMED_FORWARD_MPH = 2.5
ASSUMED_BACKWARD_MPH = 1.5


@dataclass(frozen=True)
class CalorieRange:
    """An energy estimate in kcal: a low and a high end, and a middle estimate."""

    low: float
    estimate: float
    high: float

    def __add__(self, other: CalorieRange) -> CalorieRange:
        """Ranges add end by end."""
        return CalorieRange(self.low + other.low, self.estimate + other.estimate, self.high + other.high)

    def to_dict(self) -> dict[str, Any]:
        """Whole kcal, as the phone shows them."""
        return {"low": round(self.low), "estimate": round(self.estimate), "high": round(self.high), "unit": "kcal"}


NO_CALORIES = CalorieRange(0.0, 0.0, 0.0)


def forward_mets(mph: float) -> float:
    """METs of level forward walking at `mph`, interpolated in the Compendium table (clamped at its ends)."""
    points = FORWARD_METS
    if mph <= points[0][0]:
        return points[0][1]
    if mph >= points[-1][0]:
        return points[-1][1]
    for (v0, m0), (v1, m1) in zip(points, points[1:]):
        if v0 <= mph <= v1:
            return m0 + (m1 - m0) * (mph - v0) / (v1 - v0)
    raise AssertionError("unreachable: the table covers every speed between its ends")


def backward_mets_scaled(mph: float) -> float:
    """Compendium 17320 (6.0 METs at 3.5 mph) scaled to `mph` along the forward-walking curve."""
    return BACKWARD_REFERENCE_METS * forward_mets(mph) / forward_mets(BACKWARD_REFERENCE_MPH)


def mets_range(kind: str, speed_mph: float | None) -> tuple[float, float]:
    """The (low, high) METs of one kind of segment at a speed; see the module docstring."""
    if kind in REST_KINDS:
        return STANDING_METS, STANDING_METS
    if kind in BACKWARD_KINDS:
        mph = ASSUMED_BACKWARD_MPH if speed_mph is None else speed_mph
        forward = forward_mets(mph)
        return forward * BACKWARD_RULE_LOW, max(forward * BACKWARD_RULE_HIGH, backward_mets_scaled(mph))
    value = forward_mets(ASSUMED_FORWARD_MPH if speed_mph is None else speed_mph)
    return value, value


def kcal(mets: float, weight_kg: float, seconds: float) -> float:
    """kcal = MET x kg x hours."""
    return mets * weight_kg * seconds / 3600


def calories(parts: Iterable[WalkedPart], weight_kg: float) -> CalorieRange:
    """The calorie range of what was walked, for a walker of `weight_kg`."""
    low = estimate = high = 0.0
    for part in parts:
        met_low, met_high = mets_range(part.kind, part.speed_mph)
        low += kcal(met_low, weight_kg, part.seconds)
        high += kcal(met_high, weight_kg, part.seconds)
        estimate += kcal((met_low + met_high) / 2, weight_kg, part.seconds)
    return CalorieRange(low * (1 - ONE_MET_OVERESTIMATE), estimate, high)


def calories_dict(parts: Iterable[WalkedPart], weight_kg: float | None) -> dict[str, Any] | None:
    """Calories as the API shows them, or None when no weight is set."""
    if weight_kg is None:
        return None
    return calories(parts, weight_kg).to_dict()


CALORIES_NEED_WEIGHT = "Set your weight in settings to see calories."
CALORIES_NOTE = (
    "An estimate from METs, shown as a range: walking backwards at 3.5 mph is 6.0 METs (Compendium "
    "of Physical Activities, code 17320; Ainsworth et al., Medicine & Science in Sports & Exercise "
    "2011), scaled to your speed; sources differ on the extra cost of walking backwards, and the "
    "1-MET convention runs about 20% high (Byrne et al., Journal of Applied Physiology 2005)."
)
