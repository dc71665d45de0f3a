"""The picker's first draw is honest: web/js/builtin.js holds exactly what the server answers a new device.

The phone draws the picker at once from what it already has; on a first visit that is the
built-in plans and programmes shipped in web/js/builtin.js. When a built-in plan, a
programme or one of their texts changes on the server, this test fails; write the file again with

    .venv/bin/python tests/test_builtin_plans.py
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE = ROOT / "web" / "js" / "builtin.js"
HEADER = """\
// The built-in plans and programmes as a new device sees them, so the picker is drawn before the server answers.
// Written from the server's answers by `.venv/bin/python tests/test_builtin_plans.py`, which fails when they differ.

"""
FOOTER = """
const byId = new Map(ANSWERS.plans.map((plan) => [plan.id, plan]));
// Each workout of a programme carries its plan, as GET /api/programmes gives it: the plans' own object.
for (const programme of ANSWERS.programmes.programmes) {
  for (const workout of programme.workouts) workout.plan = byId.get(workout.plan_id);
}

/** GET /api/plans for a new device: the built-in plans. */
export const BUILTIN_PLANS = ANSWERS.plans;
/** GET /api/programmes for a new device: every programme, none followed, nothing done. */
export const NEW_DEVICE_PROGRAMMES = ANSWERS.programmes;
"""
_ANSWERS = re.compile(r"^const ANSWERS = (\{.*\});$", re.M)


def new_device_answers() -> dict:
    """GET /api/plans and GET /api/programmes as a new device gets them, each workout's plan named by its id only."""
    sys.path.insert(0, str(ROOT))
    from server import create_app

    with tempfile.TemporaryDirectory() as scratch:
        app = create_app({"DATA_DIR": scratch, "AUDIO_CACHE": str(Path(scratch) / "audio"), "GTTS_ENABLED": False})
        client = app.test_client()
        client.get("/")
        plans = client.get("/api/plans").get_json()
        programmes = client.get("/api/programmes").get_json()
    by_id = {plan["id"]: plan for plan in plans}
    for programme in programmes["programmes"]:
        for workout in programme["workouts"]:
            # The module links each workout back to the plans' own object: it must be the same plan.
            assert by_id.get(workout["plan_id"]) == workout.pop("plan"), workout["plan_id"]
    return {"plans": plans, "programmes": programmes}


def module_text(answers: dict) -> str:
    """web/js/builtin.js for these answers."""
    return (
        HEADER
        + "/** GET /api/plans and /api/programmes, each workout's plan by id (filled in below). */\n"
        + f"const ANSWERS = {json.dumps(answers, ensure_ascii=False, separators=(',', ':'))};\n"
        + FOOTER
    )


def test_the_picker_ships_what_the_server_answers_a_new_device():
    shipped = _ANSWERS.search(MODULE.read_text())
    assert shipped, "web/js/builtin.js has no `const ANSWERS = {...};` line"
    assert json.loads(shipped.group(1)) == new_device_answers(), (
        "the built-in plans changed on the server: run `.venv/bin/python tests/test_builtin_plans.py`"
    )


if __name__ == "__main__":
    MODULE.write_text(module_text(new_device_answers()))
    print(f"wrote {MODULE.relative_to(ROOT)}")
