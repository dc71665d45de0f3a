"""What the audio cache hands out: a rendition of one phrase, and the report of a prerender per engine."""

from __future__ import annotations

from dataclasses import dataclass, field

from .engines import GttsEngine

# What happened to one phrase with one engine during a prerender.
OUTCOMES = ("rendered", "reused", "failed")


@dataclass(frozen=True)
class Rendition:
    """One phrase rendered by one engine: a file in the cache folder."""

    text: str
    lang: str
    engine: str
    file: str
    bytes: int
    spoken_ms: int


@dataclass
class PrerenderReport:
    """What a prerender did, per engine, in the order the engines are tried."""

    lang: str
    engines: dict[str, dict[str, int]]
    gtts_enabled: bool
    gtts_reachable: bool
    errors: dict[str, str] = field(default_factory=dict)  # engine -> its last failure
    unvoiced: list[str] = field(default_factory=list)  # phrases no engine could render

    def tally(self, engine: str, outcome: str, error: str | None = None) -> None:
        """Count one phrase's outcome for an engine."""
        self.engines[engine][outcome] += 1
        if error is not None:
            self.errors[engine] = error
        if engine == GttsEngine.name and outcome != "reused":
            self.gtts_reachable = outcome == "rendered"

    def lines(self) -> list[str]:
        """Human lines for the command line."""
        lines = [] if self.gtts_enabled else [f"{GttsEngine.name}: disabled"]
        for engine, counts in self.engines.items():
            line = ", ".join(f"{counts[outcome]} {outcome}" for outcome in OUTCOMES)
            if counts["failed"] and engine in self.errors:
                line += f" ({self.errors[engine]})"
            lines.append(f"{engine}: {line}")
        if self.unvoiced:
            lines.append(f"no voice for {len(self.unvoiced)} phrases: " + "; ".join(self.unvoiced))
        return lines
