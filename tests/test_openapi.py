"""The OpenAPI description stays true (every route both ways), and schemathesis fuzzes every operation.

schemathesis runs in-process against the WSGI app (no server, no network), derandomized and
with a bounded number of examples per operation, so the run is the same every time and short.
Checks: no 5xx, every response matches its schema and media type, every error is {"error","message"}.
"""

from __future__ import annotations

import atexit
import json
import re
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from server import create_app
from server.openapi import UNDESCRIBED_RULES, build_spec

# Flask adds these to every GET route; they are not operations of their own.
IMPLICIT_METHODS = {"HEAD", "OPTIONS"}
EXAMPLES_PER_OPERATION = 25


def openapi_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path: `<x>` and `<int:x>` become `{x}`."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def make_app(folder):
    """An app on its own data folder, offline voice, limits relaxed so the fuzzer reaches the handlers."""
    return create_app(
        {
            "DATA_DIR": str(folder),
            "AUDIO_CACHE": str(folder / "audio"),
            "GTTS_ENABLED": False,
            "TESTING": True,
        }
    )


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """One app for this module."""
    app = make_app(tmp_path_factory.mktemp("openapi"))
    yield app
    app.extensions["live"].stop()


def app_operations(app) -> set[tuple[str, str]]:
    """(path, method) of every route of the app, less the files of web/ and the websocket."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule in UNDESCRIBED_RULES:
            continue
        for method in (rule.methods or set()) - IMPLICIT_METHODS:
            found.add((openapi_path(rule.rule), method.lower()))
    return found


def spec_operations(spec: dict) -> set[tuple[str, str]]:
    """(path, method) of every operation the description has."""
    return {(path, method) for path, item in spec["paths"].items() for method in item}


def test_every_app_route_is_described(app):
    missing = app_operations(app) - spec_operations(build_spec())
    assert not missing, f"routes missing from server/openapi.py: {sorted(missing)}"


def test_every_described_route_is_in_the_app(app):
    extra = spec_operations(build_spec()) - app_operations(app)
    assert not extra, f"server/openapi.py describes routes the app does not have: {sorted(extra)}"


def test_the_undescribed_rules_still_exist(app):
    # If the static route or the websocket moved, the exceptions above would hide a new route.
    assert {rule.rule for rule in app.url_map.iter_rules()} >= UNDESCRIBED_RULES


def test_the_description_is_served_and_valid_openapi_3_1(app):
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.1")
    assert spec == json.loads(json.dumps(build_spec()))
    # schemathesis validates the document as it loads it; a broken $ref fails here.
    loaded = schemathesis.openapi.from_dict(spec)
    assert len(list(loaded.get_all_operations())) == len(spec_operations(spec))


def error_shape(ctx, response, case):
    """Every 4xx/5xx answer is JSON {"error": code, "message": sentence}."""
    if response.status_code < 400:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(
            f"{response.status_code} with a body that is not JSON: {response.content[:120]!r}"
        ) from None
    assert isinstance(body, dict), f"error body is not an object: {body!r}"
    assert isinstance(body.get("error"), str) and body["error"], f"error body lacks a code: {body!r}"
    assert isinstance(body.get("message"), str) and body["message"], f"error body lacks a message: {body!r}"
    return None


# Built at import, not in a fixture: schemathesis's lazy `from_fixture` loader breaks on
# pytest 9 (it reads a private node attribute), and a loaded schema gives one test per operation.
FUZZ_DIR = tempfile.TemporaryDirectory(prefix="retrowalk-fuzz-")
fuzzed_app = make_app(Path(FUZZ_DIR.name))
schema = schemathesis.openapi.from_wsgi("/openapi.json", fuzzed_app)


@atexit.register
def stop_the_fuzzed_app():
    """Stop the fuzzed app's scheduler and remove its data when the run ends.

    Not at module teardown: pytest-xdist may hand a worker more of this module's operations
    after it ran another module's tests, and they need the app and its folder still there.
    """
    fuzzed_app.extensions["live"].stop()
    FUZZ_DIR.cleanup()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_fuzz_every_operation(case):
    # Uncompressed: schemathesis's WSGI transport inflates no gzip (test_compression checks gzip).
    case.call_and_validate(
        headers={"Accept-Encoding": "identity"},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance, error_shape],
    )
