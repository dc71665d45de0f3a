"""Measuring a composed walk track: decode it and find every cue in it by cross-correlation.

Shared by tests/test_track.py and bench/bench_track.py.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import miniaudio
import numpy as np

from server.track import SAMPLE_RATE, SAMPLES_PER_MS, TRACK_LEAD_IN_MS, cue_file

# How far from its planned place a cue is looked for (a cue found at the edge is a failure).
SEARCH_MS = 250


def decode_miniaudio(mp3: bytes) -> np.ndarray:
    """Mono float samples at the track's rate, decoded by dr_mp3 (miniaudio)."""
    decoded = miniaudio.decode(mp3, output_format=miniaudio.SampleFormat.SIGNED16, nchannels=1, sample_rate=SAMPLE_RATE)
    return np.frombuffer(decoded.samples, dtype=np.int16).astype(np.float64)


def decode_sox(path: Path) -> np.ndarray:
    """Mono float samples at the track's rate, decoded by libmad through sox."""
    raw = subprocess.run(
        ["sox", str(path), "-t", "raw", "-e", "signed", "-b", "16", "-c", "1", "-r", str(SAMPLE_RATE), "-"],
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(raw, dtype=np.int16).astype(np.float64)


def _correlate(window: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Cross-correlation of ref over window (valid lags only), by FFT."""
    size = 1 << int(np.ceil(np.log2(len(window) + len(ref))))
    spectrum = np.fft.rfft(window, size) * np.conj(np.fft.rfft(ref, size))
    return np.fft.irfft(spectrum, size)[: len(window) - len(ref) + 1]


def placement_errors_ms(
    track: np.ndarray,
    timeline: Sequence[Mapping],
    cue_audio: Callable[[str], bytes],
    lead_in_ms: int = TRACK_LEAD_IN_MS,
) -> list[float]:
    """For every cue: where its decoded audio is found in the decoded track minus where it should start, in ms."""
    refs: dict[str, np.ndarray] = {}
    search = SEARCH_MS * SAMPLES_PER_MS
    errors = []
    for cue in timeline:
        name = cue_file(cue)
        if name not in refs:
            refs[name] = decode_miniaudio(cue_audio(name))
        ref = refs[name]
        planned = (cue["offset_ms"] + lead_in_ms) * SAMPLES_PER_MS
        low = max(0, planned - search)
        window = track[low : planned + search + len(ref)]
        if len(window) < len(ref):
            errors.append(float("inf"))  # the track ends before the cue could
            continue
        found = low + int(np.argmax(_correlate(window, ref)))
        errors.append((found - planned) / SAMPLES_PER_MS)
    return errors
