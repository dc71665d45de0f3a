"""The README stays true: every route and every command the app has is written in it."""

import re
from pathlib import Path

import pytest

from server import create_app
from server.cli import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
# Served files of web/ and the service worker's own assets are the app, not the API.
NOT_DOCUMENTED = {"/<path:filename>", "/"}


def documented_form(rule: str) -> str:
    """A route as the README writes it: `<int:x>` and `<x>` both read `<x>`."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule)


def routes(tmp_path_factory) -> list[str]:
    """Every URL rule of the app."""
    folder = tmp_path_factory.mktemp("readme")
    app = create_app({"DATA_DIR": str(folder), "AUDIO_CACHE": str(folder / "audio"), "GTTS_ENABLED": False})
    return sorted({rule.rule for rule in app.url_map.iter_rules()} - NOT_DOCUMENTED)


def test_every_route_is_in_the_readme(tmp_path_factory):
    missing = []
    for rule in routes(tmp_path_factory):
        path = documented_form(rule)
        # The README may name a route's parameters differently (`<id>` for `<plan_id>`).
        pattern = re.escape(re.sub(r"<\w+>", "<P>", path)).replace("<P>", r"<[\w.-]+>")
        if not re.search(pattern, README):
            missing.append(path)
    assert not missing, f"routes missing from README.md: {missing}"


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_is_in_the_readme(command):
    assert f"retrowalk {command}" in README
    for option in cli.commands[command].params:
        for flag in option.opts:
            if flag.startswith("--") and flag != "--help":
                assert flag in README, f"{command} {flag} is not in README.md"
