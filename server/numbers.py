"""JSON numbers as the rules read them: a boolean is never a number, though Python's bool is an int.

The one home of the check every validator needs (plans, settings, cue options, uploaded walks,
socket controls), so `true` is never taken for 1 anywhere.
"""

from __future__ import annotations

from typing import Any


def is_number(value: Any) -> bool:
    """True for ints and floats but not for booleans, which JSON keeps apart."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_whole_number(value: Any) -> bool:
    """True for an integer that is not a boolean (3, not 3.0, not true)."""
    return isinstance(value, int) and not isinstance(value, bool)
