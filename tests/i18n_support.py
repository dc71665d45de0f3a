"""The phone app's strings: the English texts its modules translate, and the tables that translate them.

English is the key of every translation (web/js/i18n.js): `t("...")`, `N_("...")` and the two
forms of `plural(n, "...", "...")` name them, always as plain double-quoted literals. A table
is web/js/i18n/<lang>-<part>.js, `export default {...};` with a JSON object inside.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

WEB = Path(__file__).resolve().parent.parent / "web"
JS = WEB / "js"
LANGUAGES = ("es", "de", "fr")
PARTS = ("core", "more")
_LITERAL = r'"((?:[^"\\]|\\.)*)"'
_SINGLE = re.compile(r"\b(?:t|N_)\(\s*" + _LITERAL)
_PLURAL = re.compile(r"\bplural\(\s*[^,\"]+,\s*" + _LITERAL + r",\s*" + _LITERAL)
_IMPORT = re.compile(r'^(?:import|export) (?:[^;]*? from )?"(\.[^"]+)";', re.M | re.S)
_LAZY_IMPORT = re.compile(r'import\("(\.[^"]+)"\)')


def _unescape(text: str) -> str:
    """A JS double-quoted literal's text."""
    return json.loads(f'"{text}"')


def keys_in(path: Path) -> set[str]:
    """The English texts a module translates."""
    source = path.read_text()
    found = {_unescape(m) for m in _SINGLE.findall(source)}
    for one, other in _PLURAL.findall(source):
        found |= {_unescape(one), _unescape(other)}
    return found


def _static_closure(start: Path) -> set[Path]:
    """A module and every module it imports statically, transitively."""
    seen = {start.resolve()}
    todo = [start.resolve()]
    while todo:
        path = todo.pop()
        for target in _IMPORT.findall(path.read_text()):
            module = (path.parent / target).resolve()
            if module not in seen:
                seen.add(module)
                todo.append(module)
    return seen


def core_modules() -> set[Path]:
    """The modules that load with the page (main.js and its static imports, and the page's own words,
    pagewords.js, that a page in another language than English loads beside them): their strings are the core part."""
    return _static_closure(JS / "main.js") | _static_closure(JS / "pagewords.js")


def all_modules() -> set[Path]:
    """Every module of the app (the service worker and the tables aside)."""
    return {p.resolve() for p in JS.rglob("*.js") if "i18n" not in p.parent.name}


def keys_by_part() -> dict[str, set[str]]:
    """The English texts of the core part and of the part loaded with the later screens (only those not in core)."""
    core = set().union(*(keys_in(p) for p in core_modules()))
    more = set().union(*(keys_in(p) for p in all_modules() - core_modules())) - core
    return {"core": core, "more": more}


def read_table(lang: str, part: str) -> dict[str, str]:
    """One table: English text -> translation."""
    source = (JS / "i18n" / f"{lang}-{part}.js").read_text()
    body = re.search(r"export default (\{.*\});\s*$", source, re.S)
    assert body, f"{lang}-{part}.js is not `export default {{...}};`"
    return json.loads(body.group(1))


def placeholders(text: str) -> set[str]:
    """The `{name}` places of a text."""
    return set(re.findall(r"\{(\w+)\}", text))
