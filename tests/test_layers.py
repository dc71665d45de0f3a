"""The tree keeps its shape: the pure core imports no edge, and no file grows long without saying why.

Read from the source with ast (nothing is imported), so a test of the core never runs Flask,
SQLite or a voice engine to find out.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SERVER = REPO / "server"

# Plain functions over plain data: the rules a walker's plan, cues, clock, track and records follow.
PURE_CORE = (
    "plans",
    "cues",
    "stats",
    "calories",
    "walkclock",
    "rounding",
    "track",
    "programmes",
    "programme_texts",
    "phrases",
    "loudness",
    "clock",
    "refusals",
    "numbers",
    "settings",
)
# The sessions' pure parts (the model, the socket's messages, stored rows read back, offline walks
# replayed), found by name so a rename within the pattern keeps them covered.
PURE_CORE_PATTERNS = ("sessions/model*.py", "sessions/messages*.py", "sessions/rows*.py", "sessions/offline*.py")
# What the edges are made of: the web framework, storage, sockets and the voice engines.
EDGE_LIBRARIES = frozenset(
    {
        "flask",
        "werkzeug",
        "flask_sock",
        "simple_websocket",
        "gevent",
        "gunicorn",
        "socket",
        "requests",
        "sqlite3",
        "sqlite_utils",
        "ctypes",
        "gtts",
        "espeakng_loader",
        "lameenc",
        "miniaudio",
    }
)
# The server's own edge modules (a pure module reaching one of these reaches its libraries too).
EDGE_MODULES = ("server.voice", "server.db", "server.sessions.store", "server.sessions.hub", "server.trackstore")

# A file longer than this says why in its first lines, in a sentence holding the marker.
MAX_LINES = 450
LONG_FILE_MARKER = f"Longer than {MAX_LINES} lines:"
MARKER_WITHIN_LINES = 10
LONG_FILE_FOLDERS = (("server", "*.py"), ("web/js", "*.js"), ("tests", "*.py"), ("tests", "*.mjs"), ("bench", "*.py"))


def module_name(path: Path) -> str:
    """The dotted module name of a file under the repository (a package is its __init__)."""
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_path(name: str) -> Path | None:
    """The file of a server module or package by its dotted name, or None outside server/."""
    base = REPO.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, as absolute dotted names (relative imports resolved)."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # `from . import phrases` imports a module, not a name.
            found.update(f"{base}.{alias.name}" for alias in node.names if module_path(f"{base}.{alias.name}"))
    return found


def packages_run_by(name: str) -> list[str]:
    """The packages whose __init__ runs when a server module is imported (the app factory in server/__init__ aside)."""
    parts = name.split(".")
    return [".".join(parts[:end]) for end in range(2, len(parts))]


def reach(start: str) -> dict[str, str]:
    """Every module a server module imports, directly or through other server modules, each with who imports it."""
    seen: dict[str, str] = {}
    todo = [(start, "")]
    while todo:
        name, importer = todo.pop()
        if name in seen:
            continue
        seen[name] = importer
        path = module_path(name)
        if path is None or not name.startswith("server."):
            continue  # a library, or server/__init__.py: the app factory, an edge no core module calls
        todo.extend((package, name) for package in packages_run_by(name))
        todo.extend((imported, name) for imported in imports_of(path))
    del seen[start]
    return seen


def pure_core() -> list[str]:
    """The pure core's module names, the sessions' model among them once it exists."""
    names = [f"server.{name}" for name in PURE_CORE]
    for pattern in PURE_CORE_PATTERNS:
        names += [module_name(path) for path in sorted(SERVER.glob(pattern))]
    return names


def test_the_pure_core_is_all_there():
    missing = [name for name in pure_core() if module_path(name) is None]
    assert not missing, f"listed as pure core but not in the tree (renamed? update PURE_CORE): {missing}"
    assert "server.sessions.model" in pure_core()


@pytest.mark.parametrize("name", pure_core())
def test_a_pure_core_module_imports_no_framework_storage_socket_or_voice_engine(name):
    reached = reach(name)
    edges = {
        imported: importer
        for imported, importer in reached.items()
        if imported.split(".")[0] in EDGE_LIBRARIES or imported.startswith(EDGE_MODULES)
    }
    assert not edges, f"{name} reaches edges (edge <- imported by): {edges}"


def test_the_layer_check_sees_an_edge_when_there_is_one():
    # The check itself can fail: the socket layer is an edge and is seen as one.
    reached = reach("server.ws")
    assert "flask" in reached and "server.sessions.hub" in reached


# Each shared rule has one home; everything else imports it from there.
ONE_HOME = {
    "LANGUAGES": "server/phrases.py",
    "FORWARD_KINDS": "server/plans.py",
    "BACKWARD_KINDS": "server/plans.py",
    "REST_KINDS": "server/plans.py",
    "BUSY_TIMEOUT_S": "server/db.py",
    "now_ms": "server/clock.py",
    "MS_PER_S": "server/clock.py",
    "UNITS": "server/phrases.py",
    "KM_PER_MILE": "server/phrases.py",
    "lan_address": "server/network.py",
}


def definitions() -> dict[str, list[str]]:
    """Where each module-level name of server/ is assigned or defined (files relative to the repository)."""
    found: dict[str, list[str]] = {}
    for path in sorted(SERVER.rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names = [node.name]
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [target.id for target in targets if isinstance(target, ast.Name)]
            else:
                continue
            for name in names:
                found.setdefault(name, []).append(str(path.relative_to(REPO)))
    return found


def test_each_shared_rule_is_defined_in_one_place():
    defined = definitions()
    assert {name: defined.get(name) for name in ONE_HOME} == {name: [home] for name, home in ONE_HOME.items()}


def test_only_db_connect_opens_sqlite():
    # One set of pragmas and one busy timeout for the database, the hub's store and the audio cache's index.
    openers = sorted(
        str(path.relative_to(REPO))
        for path in SERVER.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "connect"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "sqlite3"
    )
    assert openers == ["server/db.py"]


def long_files() -> list[tuple[Path, int]]:
    """Every module, test and benchmark over the line budget, with its length."""
    found = []
    for folder, pattern in LONG_FILE_FOLDERS:
        for path in sorted((REPO / folder).rglob(pattern)):
            lines = path.read_text(encoding="utf-8").count("\n")
            if lines > MAX_LINES:
                found.append((path, lines))
    return found


def test_a_long_file_says_at_its_top_why_it_is_long():
    unexplained = [
        f"{path.relative_to(REPO)} ({lines} lines)"
        for path, lines in long_files()
        if not any(
            LONG_FILE_MARKER in line for line in path.read_text(encoding="utf-8").splitlines()[:MARKER_WITHIN_LINES]
        )
    ]
    assert not unexplained, (
        f"over {MAX_LINES} lines with no '{LONG_FILE_MARKER} ...' reason in the first {MARKER_WITHIN_LINES} lines "
        f"(split the file, or say why it is one): {unexplained}"
    )
