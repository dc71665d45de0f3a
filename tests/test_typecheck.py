"""The phone app's JSDoc holds: TypeScript's checker reads web/js/ (jsconfig.json) and the service worker
(jsconfig.sw.json) and finds no mistake, so a module moved or renamed, an import of a name that is not
exported, a property read that its documented type lacks, fail here and not on a phone."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# tests/run installs the pinned checker here (npm, once; .venv is not in git).
TSC = ROOT / ".venv" / "node" / "node_modules" / ".bin" / "tsc"
HOW_TO_ENABLE = "./tests/run installs TypeScript's checker into .venv/node (it needs npm)"
# Generous: the checker reads the DOM library and ~50 modules on a loaded 2-core machine.
TSC_TIMEOUT_S = 300
# What the checker learnt last time (tsc --incremental): a run with nothing changed reads it and checks
# again only the modules changed since and those that import them, ~1 CPU-s instead of ~3 a config.
BUILD_INFO = ROOT / ".venv" / "tsc"


def checker() -> str:
    """The tsc to run; in CI its absence fails, elsewhere it skips with how to enable it."""
    if TSC.exists() and shutil.which("node"):
        return str(TSC)
    if os.environ.get("CI") == "true":
        pytest.fail(f"TypeScript's checker is missing in CI: {HOW_TO_ENABLE}")
    pytest.skip(HOW_TO_ENABLE)


@pytest.mark.parametrize("config", ["jsconfig.json", "jsconfig.sw.json"])
def test_the_app_s_jsdoc_types_hold(config):
    build_info = BUILD_INFO / f"{Path(config).stem}.tsbuildinfo"
    result = subprocess.run(
        [checker(), "-p", config, "--pretty", "false", "--incremental", "--tsBuildInfoFile", str(build_info)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TSC_TIMEOUT_S,
    )
    assert result.returncode == 0, f"tsc -p {config} found:\n{result.stdout}{result.stderr}"
