"""server/cues.py's placement rule written the plain way: the reference its one-sweep compiler is checked against."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

# The compiler's own inputs (what each cue wants) and its gap rule; only the placing is written again here.
from server.cues import MOVABLE, PRIORITY, Cue, CueOptions, _first_free_start, _wishes
from server.plans import Segment


def place_by_rule(segments: Sequence[Segment], options: CueOptions, spoken_ms: Mapping[str, int]) -> list[Cue]:
    """Every cue placed in priority order at its ideal moment, or slid, or left out, as the docstring's rule says."""
    wishes = sorted(_wishes(segments, options, spoken_ms), key=lambda w: (PRIORITY[w.kind], w.ideal_ms, w.about))
    busy: list[tuple[int, int]] = []
    placed = []
    hinted: set[int] = set()  # segments whose speed hint has been placed
    for wish in wishes:
        if wish.fallback and wish.about in hinted:
            continue
        length = spoken_ms[wish.text]
        start = _first_free_start(busy, wish.ideal_ms, length)
        if start != wish.ideal_ms:
            if wish.kind in MOVABLE:
                if start + length > wish.latest_end_ms:
                    continue
            elif wish.kind not in ("switch", "complete"):
                continue
        busy.append((start, start + length))
        placed.append((start, wish))
        if wish.kind == "speed":
            hinted.add(wish.about)
    placed.sort(key=lambda item: (item[0], PRIORITY[item[1].kind]))
    return [Cue(seq, at, wish.kind, wish.text, wish.segment) for seq, (at, wish) in enumerate(placed)]
