"""Every cue equally loud: loudness measured as ITU-R BS.1770 says, a gain, and a peak limiter.

Pure functions over mono float samples in [-1, 1] (numpy arrays) and their sample rate.

- Loudness is BS.1770-4 integrated loudness (LUFS): K-weighting (a high shelf of +4 dB
  above about 1.7 kHz, then a high-pass at about 38 Hz), mean square over 400 ms blocks
  overlapping by 75 %, an absolute gate at -70 LUFS and a relative gate 10 LU below the
  ungated level. A phrase shorter than one block ("Two.") is measured as one block.
  The K-weighting filters are designed for any sample rate from the analogue parameters
  of BS.1770 (as pyloudnorm does), and applied in the frequency domain: a cue is a second
  or two, so one FFT is quicker than a sample loop in Python and needs no scipy.
- True peak is estimated by 4x band-limited oversampling (BS.1770 Annex 2 uses 4x too).
- `normalise` brings a phrase to TARGET_LUFS and keeps its peaks under LIMIT_DBFS with a
  smooth look-ahead limiter, so a short "Three." is as loud as a long sentence and no
  phrase clips. The MP3 encoder may lift peaks a little: `encoded_under_ceiling` checks the
  decoded file against a ceiling and turns it down by the overshoot (a cue's file,
  voice/engines.py, and each chunk of the walk's track, trackaudio.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np

# Loud enough to be heard over a treadmill, the level of spoken-word streaming (AES TD1004).
TARGET_LUFS = -16.0
# No decoded cue may peak above this.
PEAK_CEILING_DBFS = -1.0
# The limiter aims lower, leaving room for MP3 encoding and inter-sample peaks.
LIMIT_DBFS = -2.0
# If an encoded file still peaks over its ceiling, it is lowered by the excess and this margin.
PEAK_RETRY_MARGIN_DB = 0.2
# Float samples in [-1, 1] are 16-bit PCM times this.
PCM_FULL_SCALE = 32768
# BS.1770-4: 400 ms gating blocks, 75 % overlap, gates at -70 LUFS and -10 LU.
BLOCK_S = 0.4
BLOCK_OVERLAP = 0.75
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
LOUDNESS_OFFSET = -0.691
# The K-weighting's analogue parameters, from which libebur128 designs BS.1770's filters at any rate.
SHELF_GAIN_DB = 3.999843853973347
SHELF_HZ = 1681.974450955533
SHELF_Q = 0.7071752369554196
HIGH_PASS_HZ = 38.13547087602444
HIGH_PASS_Q = 0.5003270373238773
SHELF_BAND_EXPONENT = 0.4996667741545416
# The filters' responses die out well within this; padding keeps the FFT's wrap-around away.
FILTER_TAIL_S = 0.25
TRUE_PEAK_OVERSAMPLING = 4
# The limiter's gain moves over this window each way: short enough to keep speech natural,
# long enough not to distort it.
LIMITER_WINDOW_S = 0.005
# Gain then limit twice: limiting lowers loudness a little, the second pass makes it up.
NORMALISE_PASSES = 2
SILENT = -math.inf


def db_to_gain(db: float) -> float:
    """A level change in decibels as a factor on the samples."""
    return 10 ** (db / 20)


def gain_to_db(gain: float) -> float:
    """A factor on the samples as decibels (-inf for zero)."""
    return 20 * math.log10(gain) if gain > 0 else SILENT


def _high_shelf(rate: int) -> tuple[np.ndarray, np.ndarray]:
    """BS.1770 stage 1 (the head's acoustic effect) at this sample rate: biquad (b, a).

    The bilinear design of libebur128, which gives BS.1770's own coefficients at 48 kHz.
    """
    k = math.tan(math.pi * SHELF_HZ / rate)
    high = 10 ** (SHELF_GAIN_DB / 20)
    band = high**SHELF_BAND_EXPONENT
    a0 = 1 + k / SHELF_Q + k * k
    b = [(high + band * k / SHELF_Q + k * k) / a0, 2 * (k * k - high) / a0, (high - band * k / SHELF_Q + k * k) / a0]
    a = [1.0, 2 * (k * k - 1) / a0, (1 - k / SHELF_Q + k * k) / a0]
    return np.array(b), np.array(a)


def _high_pass(rate: int) -> tuple[np.ndarray, np.ndarray]:
    """BS.1770 stage 2 (the RLB high-pass) at this sample rate: biquad (b, a), as libebur128 designs it."""
    k = math.tan(math.pi * HIGH_PASS_HZ / rate)
    a0 = 1 + k / HIGH_PASS_Q + k * k
    return np.array([1.0, -2.0, 1.0]), np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / HIGH_PASS_Q + k * k) / a0])


def k_weighting(rate: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The two biquads of BS.1770's K-weighting at this sample rate, in order."""
    return [_high_shelf(rate), _high_pass(rate)]


def fft_size(length: int) -> int:
    """The smallest length of at least `length` whose only prime factors are 2, 3 and 5.

    numpy's FFT (pocketfft) is as quick per sample at such lengths as at a power of two, and
    they lie within about 10 % of any length where the next power of two is up to twice as
    long: K-weighting a cue costs about half as much (`retrowalk prerender` levels every phrase).
    """
    best = 1 << max(length - 1, 0).bit_length()
    fives = 1
    while fives < best:
        threes = fives
        while threes < best:
            size = threes
            while size < length:
                size *= 2
            best = min(best, size)
            threes *= 3
        fives *= 5
    return best


# A few dozen FFT sizes cover every phrase length (fft_size's spacing), so each response is made once.
K_RESPONSES_KEPT = 128


@lru_cache(maxsize=K_RESPONSES_KEPT)
def _k_response(rate: int, size: int) -> np.ndarray:
    """The K-weighting's frequency response at the bins of a real FFT of `size`."""
    z_inverse = np.exp(-1j * np.linspace(0, math.pi, size // 2 + 1))
    response = np.ones_like(z_inverse)
    for b, a in k_weighting(rate):
        response *= (b[0] + b[1] * z_inverse + b[2] * z_inverse**2) / (a[0] + a[1] * z_inverse + a[2] * z_inverse**2)
    return response


def k_weighted(samples: np.ndarray, rate: int) -> np.ndarray:
    """The samples through the K-weighting filters (in the frequency domain, tail padded)."""
    length = len(samples) + int(FILTER_TAIL_S * rate)
    # 2-3-5 smooth: the FFT of a length with a large prime factor can be many times slower.
    size = fft_size(length)
    return np.fft.irfft(np.fft.rfft(samples, size) * _k_response(rate, size), size)[:length]


def integrated_loudness(samples: np.ndarray, rate: int) -> float:
    """BS.1770-4 gated loudness of mono samples, in LUFS (-inf for silence)."""
    if len(samples) == 0:
        return SILENT
    weighted = k_weighted(np.asarray(samples, dtype=np.float64), rate)
    block = min(int(BLOCK_S * rate), len(samples))
    step = max(1, int(block * (1 - BLOCK_OVERLAP)))
    starts = range(0, max(len(samples) - block, 0) + 1, step)
    powers = np.array([np.mean(weighted[s : s + block] ** 2) for s in starts])
    with np.errstate(divide="ignore"):
        levels = LOUDNESS_OFFSET + 10 * np.log10(powers)
    gated = powers[levels > ABSOLUTE_GATE_LUFS]
    if len(gated) == 0:
        return SILENT
    relative_gate = LOUDNESS_OFFSET + 10 * math.log10(gated.mean()) + RELATIVE_GATE_LU
    kept = powers[(levels > ABSOLUTE_GATE_LUFS) & (levels > relative_gate)]
    return LOUDNESS_OFFSET + 10 * math.log10(kept.mean())


def true_peak_dbfs(samples: np.ndarray) -> float:
    """The highest level between samples too (4x band-limited oversampling), in dBFS."""
    if len(samples) == 0:
        return SILENT
    padded = np.concatenate([np.zeros(16), np.asarray(samples, dtype=np.float64), np.zeros(16)])
    oversampled = np.fft.irfft(np.fft.rfft(padded), len(padded) * TRUE_PEAK_OVERSAMPLING) * TRUE_PEAK_OVERSAMPLING
    return gain_to_db(float(max(np.max(np.abs(oversampled)), np.max(np.abs(padded)))))


def sample_peak_dbfs(samples: np.ndarray) -> float:
    """The highest sample, in dBFS."""
    return gain_to_db(float(np.max(np.abs(samples)))) if len(samples) else SILENT


def pcm16(samples: np.ndarray) -> bytes:
    """Float samples as signed 16-bit little-endian PCM (rounded, clipped to its range)."""
    return np.clip(np.round(samples * PCM_FULL_SCALE), -PCM_FULL_SCALE, PCM_FULL_SCALE - 1).astype("<i2").tobytes()


def from_pcm16(pcm) -> np.ndarray:
    """Signed 16-bit PCM (bytes or an array of int16) as float samples in [-1, 1]."""
    return np.frombuffer(pcm, dtype="<i2") / PCM_FULL_SCALE


def encoded_under_ceiling(
    samples: np.ndarray,
    encode: Callable[[np.ndarray], bytes],
    decode: Callable[[bytes], np.ndarray],
    ceiling_dbfs: float,
    encodes: int,
) -> bytes:
    """`encode(samples)`, turned down by the overshoot (and PEAK_RETRY_MARGIN_DB) and encoded again
    while `decode` of it peaks above the ceiling: at most `encodes` encodes, the last kept unchecked."""
    for attempt in range(1, encodes + 1):
        encoded = encode(samples)
        if attempt == encodes:
            break
        over = sample_peak_dbfs(decode(encoded)) - ceiling_dbfs
        if over <= 0:
            break
        samples = samples * db_to_gain(-(over + PEAK_RETRY_MARGIN_DB))
    return encoded


def _moving_min(values: np.ndarray, width: int) -> np.ndarray:
    """The minimum over a centred window of `width` samples (edges held), in O(n) (van Herk/Gil-Werman)."""
    half = width // 2
    span = 2 * half + 1
    padded = np.pad(values, (half, half), mode="edge")
    blocks = np.pad(padded, (0, -len(padded) % span), mode="edge").reshape(-1, span)
    prefix = np.minimum.accumulate(blocks, axis=1).ravel()
    suffix = np.minimum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
    # A window [i, i + span) covers the end of one block and the start of the next.
    return np.minimum(suffix[: len(values)], prefix[span - 1 : span - 1 + len(values)])


def _moving_mean(values: np.ndarray, width: int) -> np.ndarray:
    """The mean over a centred window of `width` samples (edges held), by running sums."""
    half = width // 2
    span = 2 * half + 1
    sums = np.concatenate([[0.0], np.cumsum(np.pad(values, (half, half), mode="edge"))])
    return (sums[span:] - sums[:-span]) / span


def limit(samples: np.ndarray, rate: int, ceiling_dbfs: float = LIMIT_DBFS) -> np.ndarray:
    """The samples with every peak brought under the ceiling by a smooth gain (no clipping).

    The gain each sample needs is first spread to its neighbours (a moving minimum), then
    smoothed (a moving mean of the same width): every smoothed value averages gains no
    higher than the one the sample needs, so no sample ends over the ceiling.
    """
    ceiling = db_to_gain(ceiling_dbfs)
    magnitude = np.abs(samples)
    if len(samples) == 0 or magnitude.max() <= ceiling:
        return samples
    needed = np.minimum(1.0, ceiling / np.maximum(magnitude, 1e-12))
    width = max(1, int(LIMITER_WINDOW_S * rate))
    smooth = _moving_mean(_moving_min(needed, width), width)
    return samples * smooth


def normalise(samples: np.ndarray, rate: int) -> np.ndarray:
    """A phrase brought to TARGET_LUFS with its peaks under LIMIT_DBFS (silence is left alone)."""
    out = np.asarray(samples, dtype=np.float64)
    for _ in range(NORMALISE_PASSES):
        loudness = integrated_loudness(out, rate)
        if loudness == SILENT:
            return out
        gained = out * db_to_gain(TARGET_LUFS - loudness)
        out = limit(gained, rate)
        if out is gained:
            break  # nothing limited: the loudness is the target already
    return out
