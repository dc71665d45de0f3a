"""Stored session rows as the code reads them: the model of a walk, a history entry, a walk record for stats.

Plain JSON in the row's text columns, decoded here; server/sessions/store.py fetches the rows.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from .. import walkclock as wc
from ..plans import BACKWARD_KINDS, parse_segments
from ..stats import WalkedPart, WalkRecord
from ..walkclock import ENDED_COMPLETE, FINISHED, Skip
from .model import LiveSession, socket_path

# Parsed timelines shared by the sessions in memory that use them (they are never changed).
PARSED_TIMELINES_KEPT = 64
_parsed_timelines: OrderedDict[str, list[dict]] = OrderedDict()
_parsed_lock = threading.Lock()


def parsed_timeline(timeline_id: str | None, text: str) -> list[dict]:
    """A stored timeline as cues, parsed once for every session in memory that shares it."""
    if not timeline_id:
        return json.loads(text)
    with _parsed_lock:
        cues = _parsed_timelines.get(timeline_id)
        if cues is not None:
            _parsed_timelines.move_to_end(timeline_id)
            return cues
    cues = json.loads(text)
    with _parsed_lock:
        _parsed_timelines[timeline_id] = cues
        while len(_parsed_timelines) > PARSED_TIMELINES_KEPT:
            _parsed_timelines.popitem(last=False)
    return cues


def session_from_row(row: dict, events: Iterable[dict] = ()) -> LiveSession:
    """A stored session (and its events: the skips, and the last event's time) as a LiveSession."""
    events = list(events)
    skips = tuple(
        Skip(**{k: data[k] for k in ("segment", "from_ms", "to_ms", "next_ms")})
        for data in (json.loads(e["data"]) for e in events if e["type"] == "skip")
    )
    walk = wc.Walk(
        state=row["state"],
        started_at=row["started_at"],
        paused_at=row["paused_at"],
        shift_ms=row["shift_ms"] or 0,
        skips=skips,
        finished_at=row["finished_at"],
        ended_by=row["ended_by"],
        last_at=max((e["at"] for e in events), default=None),
    )
    return LiveSession(
        id=row["id"],
        device_id=row["device_id"],
        plan_id=row["plan_id"],
        plan_name=row["plan_name"],
        segments=parse_segments(json.loads(row["plan"])),
        timeline=parsed_timeline(row.get("timeline_id"), row["timeline"]),
        options=json.loads(row["options"]),
        created_at=row["created_at"],
        walk=walk,
        summary=json.loads(row["summary"]) if row["summary"] else None,
    )


def history_entry(row: dict) -> dict[str, Any]:
    """One row of GET /api/history."""
    segments = json.loads(row["plan"])
    return {
        "id": row["id"],
        "ws": socket_path(row["id"]) if row["state"] != FINISHED else None,
        "plan_id": row["plan_id"],
        "plan_name": row["plan_name"],
        "planned_seconds": sum(s["seconds"] for s in segments),
        "state": row["state"],
        "created_at": row["created_at"],
        "started_at": row["started_at"],
        "finished_at": row["finished_at"],
        "ended_by": row["ended_by"],
        "summary": json.loads(row["summary"]) if row["summary"] else None,
    }


def walk_record(row: dict[str, Any]) -> WalkRecord | None:
    """A finished session row (plan snapshot and summary as JSON text) as stats read it, else None.

    Every summary gives the seconds actually walked in each segment of the plan snapshot
    (`segments_walked`, written with the finish since sessions were first stored), which
    keeps each part's speed for calories.
    """
    if row.get("finished_at") is None or not row.get("summary"):
        return None
    segments = json.loads(row["plan"])
    walked = json.loads(row["summary"])["segments_walked"]
    return WalkRecord(
        session_id=row["id"],
        plan_id=row["plan_id"],
        plan_name=row["plan_name"],
        finished_at_ms=row["finished_at"],
        completed=row.get("ended_by") == ENDED_COMPLETE,
        parts=tuple(
            WalkedPart(segment["kind"], float(seconds), segment.get("speed_mph"))
            for segment, seconds in zip(segments, walked)
            if seconds
        ),
        started_at_ms=row.get("started_at"),
        planned_backward_s=sum(float(segment["seconds"]) for segment in segments if segment["kind"] in BACKWARD_KINDS),
    )
