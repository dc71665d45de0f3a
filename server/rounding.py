"""One rounding rule for every figure shown with its parts: the parts always add up to the total.

Rounding a total and each of its parts on their own can print "0.2 minutes, of which 0.2
forward and 0.1 backward". Instead the total is rounded once (halves up) and the parts share
it by the largest-remainder rule: each part is first rounded down, then the units still
missing go to the parts that lost the most (ties: the larger part, then the first). A part
is never moved by more than one unit, and the printed parts sum to the printed total.

web/js/walkclock.js has the same rule (`roundParts`) for the summaries the phone computes.
"""

from __future__ import annotations

from collections.abc import Sequence


def round_parts(values: Sequence[int], step: int) -> list[int]:
    """Whole `step`s for each non-negative integer value, summing to the total rounded half up.

    Integers in, integers out (count of steps), so no float ever decides a tie: pass
    milliseconds with step 100 for tenths of a second, tenths of a second with step 60 for
    tenths of a minute.
    """
    if step <= 0:
        raise ValueError("step must be positive")
    if any(value < 0 for value in values):
        raise ValueError("values must not be negative")
    total = (sum(values) + step // 2) // step
    floors = [value // step for value in values]
    missing = total - sum(floors)
    # Largest remainder first; then the larger value; then the earlier part.
    order = sorted(range(len(values)), key=lambda i: (-(values[i] % step), -values[i], i))
    for index in order[:missing]:
        floors[index] += 1
    return floors
