"""Benchmark: prerender the standard phrase set with the offline voice into a fresh cache.

Run: python bench/bench_prerender.py [--lang en|es|de|fr|all] [--gtts-unreachable]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.phrases import LANGUAGES, standard_phrases  # noqa: E402
from server.voice import AUDIO_SUFFIX, AudioCache  # noqa: E402

# Each phrase is synthesised, levelled (BS.1770 loudness, limiter), encoded and checked once
# decoded; the standard set is some 860 phrases a language, so the target is per phrase.
TARGET_MS_PER_PHRASE = 60.0
BYTES_PER_KB = 1000
MS_PER_S = 1000
# A proxy nobody listens on: gTTS fails at once, as on a machine with no internet.
DEAD_PROXY = "http://127.0.0.1:9"


def bench(phrases: list[str], lang: str, gtts_enabled: bool) -> tuple[float, int, float]:
    """Seconds to prerender the phrases cold, their total bytes, and seconds to prerender them again."""
    with tempfile.TemporaryDirectory() as root:
        cache = AudioCache(root, gtts_enabled=gtts_enabled)
        start = time.perf_counter()
        report = cache.prerender(phrases, lang)
        cold = time.perf_counter() - start
        if report.unvoiced:
            raise SystemExit(f"no voice for: {report.unvoiced}")
        total_bytes = sum(path.stat().st_size for path in Path(root).glob("*" + AUDIO_SUFFIX))
        start = time.perf_counter()
        cache.prerender(phrases, lang)
        warm = time.perf_counter() - start
    return cold, total_bytes, warm


def main(argv: list[str] | None = None, phrases_for: Callable[[str], list[str]] = standard_phrases) -> int:
    """Print the offline prerender figures of each language asked for; 1 if over the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", default="en", choices=[*LANGUAGES, "all"])
    parser.add_argument(
        "--gtts-unreachable",
        action="store_true",
        help="keep gTTS on, behind a dead proxy, to include its failure and back-off",
    )
    args = parser.parse_args(argv)
    if args.gtts_unreachable:
        os.environ["HTTPS_PROXY"] = os.environ["https_proxy"] = DEAD_PROXY
    over = False
    for lang in LANGUAGES if args.lang == "all" else (args.lang,):
        phrases = phrases_for(lang)
        cold, total_bytes, warm = bench(phrases, lang, gtts_enabled=args.gtts_unreachable)
        print(
            f"prerender offline ({lang}): {len(phrases)} phrases in {cold:.2f} s "
            f"({cold * MS_PER_S / len(phrases):.1f} ms a phrase), {total_bytes / BYTES_PER_KB:.0f} KB; "
            f"again, all reused: {warm:.2f} s"
        )
        over |= cold * MS_PER_S / len(phrases) > TARGET_MS_PER_PHRASE
    if over:
        print(f"over the {TARGET_MS_PER_PHRASE:.0f} ms a phrase target")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
