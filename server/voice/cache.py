"""The audio cache: content-addressed MP3 renditions of the coach's phrases, listed in a SQLite index.

Every rendition is an immutable MP3 named by the hash of (engine, language, accent, text). The
engines are tried in order of preference (gTTS, then eSpeak NG); a file is checked against its
hash before it is served, and a damaged index is replaced by an empty one (it is disposable).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sqlite3
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from .. import db as storage
from ..phrases import LANGUAGES
from .engines import GTTS_BACKOFF_S, GTTS_MIN_INTERVAL_S, GTTS_TIMEOUT_S, Engine, EspeakEngine, GttsEngine, RenderFailed
from .mp3 import NotMpegAudio, mp3_duration_ms
from .report import OUTCOMES, PrerenderReport, Rendition

# Phrases come from the server's closed set; anything longer is a bug, not a cue.
MAX_TEXT_CHARS = 200

AUDIO_SUFFIX = ".mp3"
INDEX_FILE = "index.db"
RENDITIONS_TABLE = "renditions"
# Renders are written beside the cache files under these names, then renamed into place;
# path_for never serves them because they are not <sha256>.mp3.
TEMP_PREFIX = ".render-"
TEMP_SUFFIX = ".part"
# A temporary file this old was left by a process that died mid-render.
STALE_TEMP_SECONDS = 3600


def sweep_stale_temp_files(root: Path) -> None:
    """Delete the temporary render files in `root` that a process which died mid-render left."""
    cutoff = time.time() - STALE_TEMP_SECONDS
    for temp in root.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
        try:
            if temp.stat().st_mtime < cutoff:
                temp.unlink()
        except FileNotFoundError:
            pass  # another process swept it


# Cache files are public audio a web server or CDN may serve, unlike mkstemp's 0600.
CACHE_FILE_MODE = 0o644
CACHE_NAME = re.compile(r"[0-9a-f]{64}" + re.escape(AUDIO_SUFFIX))
# Upper bound of SQLite host parameters we use in one IN (...) lookup.
LOOKUP_CHUNK = 500
# Renders of different phrases run in parallel; the same phrase is rendered once at a time.
RENDER_LOCK_STRIPES = 64

_ROW_KEYS = ("text", "lang", "engine", "accent", "file", "bytes", "spoken_ms", "sha256")
# SQLite's primary result codes for a damaged file: the index is then rebuilt, not trusted.
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26
# The index and the files SQLite keeps beside it in WAL mode.
_INDEX_SUFFIXES = ("", "-wal", "-shm")

log = logging.getLogger(__name__)


class VoiceUnavailable(Exception):
    """No engine could render a phrase."""


class _IndexCorrupt(sqlite3.DatabaseError):
    """The index file failed SQLite's own integrity check."""


def _is_corruption(error: BaseException) -> bool:
    """Whether a SQLite error means the index file is damaged (not merely busy or read-only)."""
    if isinstance(error, _IndexCorrupt):
        return True
    if not isinstance(error, sqlite3.DatabaseError) or isinstance(error, sqlite3.OperationalError):
        return False
    code = storage.sqlite_primary_code(error)
    if code is not None:
        return code in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
    text = str(error)
    return "malformed" in text or "not a database" in text


def content_address(engine: str, lang: str, accent: str, text: str) -> str:
    """The cache file name of a rendition: the SHA-256 of what makes its audio."""
    # JSON keeps the parts apart, so no two different keys can hash the same string.
    key = json.dumps([engine, lang, accent, text], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(key.encode("utf-8")).hexdigest() + AUDIO_SUFFIX


def _phrases(texts: Iterable[str], lang: str) -> list[str]:
    """The distinct phrases asked for, checked."""
    if lang not in LANGUAGES:
        raise ValueError(f"Voice language must be one of {', '.join(LANGUAGES)}.")
    if isinstance(texts, str):
        raise TypeError("texts must be a collection of phrases, not one string")
    phrases = list(dict.fromkeys(texts))
    for text in phrases:
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT_CHARS:
            raise ValueError(f"Not a phrase the coach can say: {text!r}")
    return phrases


def _stripe(text: str, lang: str) -> int:
    """A phrase's render-lock number: the same phrase is rendered once at a time."""
    return int.from_bytes(hashlib.blake2b(f"{lang}\0{text}".encode(), digest_size=4).digest())


def _now() -> str:
    """The current UTC time as ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class AudioCache:
    """Content-addressed MP3 renditions of the coach's phrases, with a SQLite index."""

    def __init__(
        self,
        root: Path | str,
        engines: list | None = None,
        gtts_enabled: bool = True,
        gtts_timeout: float = GTTS_TIMEOUT_S,
        gtts_min_interval: float = GTTS_MIN_INTERVAL_S,
        gtts_backoff: float = GTTS_BACKOFF_S,
    ):
        """Open (creating) the cache folder and its index; engines are tried in the order given."""
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        if engines is None:
            engines = [EspeakEngine()]
            if gtts_enabled:
                engines.insert(0, GttsEngine(gtts_timeout, gtts_min_interval, gtts_backoff))
        if not engines:
            raise ValueError("An audio cache needs at least one engine.")
        self.engines = list(engines)
        self._index = self.root / INDEX_FILE
        self._render_locks = [threading.Lock() for _ in range(RENDER_LOCK_STRIPES)]
        self._reset_lock = threading.Lock()
        # file -> ((size, mtime, inode), sha256) of a file whose bytes were checked: one hash per change.
        self._checked: dict[str, tuple[tuple[int, int, int], str]] = {}
        # sha256 of files indexed before hashes were recorded, to write into the index.
        self._learned: dict[str, str] = {}
        self._guarded(self._create_index, check=True)
        self._sweep_stale_temp_files()

    def _create_index(self, check: bool = False) -> None:
        """Create the index table if missing (and, at boot, let SQLite check the file)."""
        with self._db() as db:
            if check:
                verdict = db.execute("PRAGMA quick_check").fetchone()[0]
                if verdict != "ok":
                    raise _IndexCorrupt(verdict)
            db.enable_wal()
            db[RENDITIONS_TABLE].create(
                {
                    "file": str,
                    "text": str,
                    "lang": str,
                    "engine": str,
                    "accent": str,
                    "bytes": int,
                    "spoken_ms": int,
                    "sha256": str,
                    "created_at": str,
                },
                pk="file",
                if_not_exists=True,
            )
            if "sha256" not in db[RENDITIONS_TABLE].columns_dict:
                db[RENDITIONS_TABLE].add_column("sha256", str)  # an index from before hashes
            db[RENDITIONS_TABLE].create_index(["engine", "lang", "accent", "text"], unique=True, if_not_exists=True)

    def _guarded(self, action: Callable, *args, **kwargs):
        """Run an index action; if the index turns out damaged, start it afresh and run it once more."""
        try:
            return action(*args, **kwargs)
        except sqlite3.DatabaseError as error:
            if not _is_corruption(error):
                raise
            self._reset_index(error)
            return action(*args, **kwargs)

    def _reset_index(self, error: BaseException) -> None:
        """Replace a damaged index with an empty one: it is disposable, files are re-indexed as they are rendered."""
        with self._reset_lock:
            try:
                with self._db() as db:
                    healthy = db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
                    healthy = healthy and db[RENDITIONS_TABLE].exists()
            except sqlite3.DatabaseError:
                healthy = False
            if healthy:
                return  # another thread already replaced it
            log.warning("Audio cache index %s is damaged (%s); starting an empty index", self._index, error)
            for suffix in _INDEX_SUFFIXES:
                Path(f"{self._index}{suffix}").unlink(missing_ok=True)
            self._checked.clear()
            self._create_index()

    def ensure(self, texts: Iterable[str], lang: str) -> dict[str, Rendition]:
        """A rendition of every phrase, whose file is checked, rendering only those the cache lacks or has damaged."""
        phrases = _phrases(texts, lang)
        return self._guarded(self._ensure, phrases, lang)

    def _ensure(self, phrases: list[str], lang: str) -> dict[str, Rendition]:
        """ensure() on one index connection."""
        renditions: dict[str, Rendition] = {}
        with self._db() as db:
            found = self._lookup(db, phrases, lang)
            for text in phrases:
                existing = self._preferred(found.get(text, {}))
                renditions[text] = existing or self._voice(db, text, lang, upgrade=False)
            self._record_learned_hashes(db)
        return renditions

    def _record_learned_hashes(self, db) -> None:
        """Write the hashes of files indexed before hashes were kept, so later checks compare them."""
        while self._learned:
            file_name, digest = self._learned.popitem()
            db.execute(
                f"update {RENDITIONS_TABLE} set sha256 = ? where file = ? and sha256 is null", [digest, file_name]
            )

    def prerender(self, texts: Iterable[str], lang: str) -> PrerenderReport:
        """Render every phrase, upgrading offline renditions to gTTS when it answers."""
        phrases = _phrases(texts, lang)
        gtts = next((e for e in self.engines if e.name == GttsEngine.name), None)
        breaker = getattr(gtts, "breaker", None)
        report = PrerenderReport(
            lang=lang,
            engines={engine.name: dict.fromkeys(OUTCOMES, 0) for engine in self.engines},
            gtts_enabled=gtts is not None,
            gtts_reachable=gtts is not None and not (breaker is not None and breaker.is_open),
        )
        with self._db() as db:
            for text in phrases:
                try:
                    self._voice(db, text, lang, upgrade=True, report=report)
                except VoiceUnavailable:
                    report.unvoiced.append(text)
        return report

    def path_for(self, file_name: str) -> Path | None:
        """The path of a sound cache file by its name (a damaged one rendered again first), or None."""
        if not isinstance(file_name, str) or not CACHE_NAME.fullmatch(file_name):
            return None
        try:
            return self._guarded(self._sound_path, file_name)
        except sqlite3.OperationalError as error:
            # The index cannot be read (a full or read-only disk): the file may still be served if it is plainly audio.
            log.warning("Audio cache index unavailable (%s); checking %s by its content", error, file_name)
            return self.root / file_name if self._file_ok(file_name, None, None) else None

    def _sound_path(self, file_name: str) -> Path | None:
        """path_for() on one index connection: an indexed file is checked against its hash and healed."""
        path = self.root / file_name
        with self._db() as db:
            row = db.execute(
                f"select {', '.join(_ROW_KEYS)} from {RENDITIONS_TABLE} where file = ?", [file_name]
            ).fetchone()
            if row is None:
                # Not indexed (the index was replaced): served only while it is plainly MPEG audio.
                return path if self._file_ok(file_name, None, None) else None
            row = dict(zip(_ROW_KEYS, row))
            if self._current(row) is not None:
                self._record_learned_hashes(db)
                return path
            engine = next((e for e in self.engines if e.name == row["engine"]), None)
            if engine is None or engine.accent(row["lang"]) != row["accent"]:
                return None  # a voice no longer configured cannot be rendered again
            try:
                with self._render_locks[_stripe(row["text"], row["lang"]) % RENDER_LOCK_STRIPES]:
                    self._render(db, engine, row["text"], row["lang"])
            except RenderFailed:
                return None
        return path

    # Internals.

    @contextmanager
    def _db(self) -> Iterator[sqlite_utils.Database]:
        """A connection of this call's own (sqlite connections stay on their thread)."""
        # db.connect's autocommit lets _store take the write lock with BEGIN IMMEDIATE itself.
        database = storage.connect(self._index)
        try:
            yield database
        finally:
            database.close()

    def _file_ok(self, file_name: str, size: int | None, digest: str | None) -> bool:
        """Whether a cache file holds what the index says: its size and hash (or, unhashed, MPEG audio)."""
        path = self.root / file_name
        try:
            info = path.lstat()
        except OSError:
            return False
        if not stat.S_ISREG(info.st_mode) or info.st_size == 0 or (size is not None and info.st_size != size):
            return False
        key = (info.st_size, info.st_mtime_ns, info.st_ino)
        checked = self._checked.get(file_name)
        if checked is not None and checked[0] == key and (digest is None or checked[1] == digest):
            return True  # these very bytes were checked already
        try:
            data = path.read_bytes()
        except OSError:
            return False
        actual = hashlib.sha256(data).hexdigest()
        if digest is None:
            try:
                mp3_duration_ms(data)
            except NotMpegAudio:
                return False
            if size is not None:
                self._learned[file_name] = actual
        elif actual != digest:
            return False
        self._checked[file_name] = (key, actual)
        return True

    def _current(self, row: dict) -> Rendition | None:
        """The row as a Rendition if it is from a configured engine's voice and its file is intact."""
        engine = next((e for e in self.engines if e.name == row["engine"]), None)
        if engine is None or engine.accent(row["lang"]) != row["accent"]:
            return None
        if not self._file_ok(row["file"], row["bytes"], row.get("sha256")):
            return None
        return Rendition(row["text"], row["lang"], row["engine"], row["file"], row["bytes"], row["spoken_ms"])

    def _lookup(self, db, texts: list[str], lang: str) -> dict[str, dict[str, Rendition]]:
        """The usable renditions of these phrases, by text and engine."""
        found: dict[str, dict[str, Rendition]] = {}
        for start in range(0, len(texts), LOOKUP_CHUNK):
            chunk = texts[start : start + LOOKUP_CHUNK]
            where = f"lang = ? and text in ({', '.join('?' * len(chunk))})"
            for row in db[RENDITIONS_TABLE].rows_where(where, [lang, *chunk]):
                rendition = self._current(row)
                if rendition is not None:
                    found.setdefault(rendition.text, {})[rendition.engine] = rendition
        return found

    def _preferred(self, by_engine: dict[str, Rendition]) -> Rendition | None:
        """The rendition of the most preferred engine among those present."""
        return next((by_engine[e.name] for e in self.engines if e.name in by_engine), None)

    def _voice(self, db, text: str, lang: str, upgrade: bool, report: PrerenderReport | None = None) -> Rendition:
        """One phrase's best rendition, rendering where needed (upgrade: try better engines first)."""
        with self._render_locks[_stripe(text, lang) % RENDER_LOCK_STRIPES]:
            # Another thread may have rendered it while we waited for the lock.
            existing = self._lookup(db, [text], lang).get(text, {})
            if existing and not upgrade:
                return self._preferred(existing)
            failures = []
            for engine in self.engines:
                if engine.name in existing:
                    if report is not None:
                        report.tally(engine.name, "reused")
                    return existing[engine.name]
                try:
                    rendition = self._render(db, engine, text, lang)
                except RenderFailed as error:
                    failures.append(f"{engine.name}: {error}")
                    if report is not None:
                        report.tally(engine.name, "failed", str(error))
                    continue
                if report is not None:
                    report.tally(engine.name, "rendered")
                # Encoding blocks for milliseconds; under gevent let other walkers' cues go out.
                time.sleep(0)
                return rendition
        raise VoiceUnavailable(f"No engine could say {text!r} in {lang}: " + "; ".join(failures))

    def _render(self, db, engine: Engine, text: str, lang: str) -> Rendition:
        """Render with one engine into a temporary file, then move it into place and index it."""
        fd, temp_name = tempfile.mkstemp(dir=self.root, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
        temp = Path(temp_name)
        try:
            with os.fdopen(fd, "w+b") as fp:
                spoken_ms = engine.render(text, lang, fp)
                fp.flush()
                size = os.fstat(fp.fileno()).st_size
                if size == 0:
                    raise RenderFailed("the engine wrote no audio")
                fp.seek(0)
                digest = hashlib.sha256(fp.read()).hexdigest()
                # The index will point at this file: it must be on disk before the rename.
                os.fsync(fp.fileno())
            os.chmod(temp, CACHE_FILE_MODE)
            accent = engine.accent(lang)
            file_name = content_address(engine.name, lang, accent, text)
            rendition = Rendition(text, lang, engine.name, file_name, size, spoken_ms)
            return self._store(db, rendition, accent, digest, temp)
        finally:
            temp.unlink(missing_ok=True)

    def _store(self, db, rendition: Rendition, accent: str, digest: str, temp: Path) -> Rendition:
        """Move a rendered file into place and index it, unless another process got there first."""
        conn = db.conn
        # The write lock makes check, rename and insert one step across processes.
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute(
                f"select {', '.join(_ROW_KEYS)} from {RENDITIONS_TABLE} where file = ?",
                [rendition.file],
            ).fetchone()
            if row is not None:
                existing = self._current(dict(zip(_ROW_KEYS, row)))
                if existing is not None:
                    conn.execute("COMMIT")
                    return existing  # files are immutable: keep the one already served
            os.replace(temp, self.root / rendition.file)
            row = {**asdict(rendition), "accent": accent, "sha256": digest, "created_at": _now()}
            conn.execute(
                f"insert or replace into {RENDITIONS_TABLE} ({', '.join(row)}) values ({', '.join('?' * len(row))})",
                list(row.values()),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return rendition

    def _sweep_stale_temp_files(self) -> None:
        """Delete temporary files left by a process that died mid-render."""
        sweep_stale_temp_files(self.root)
