"""The dev split's outputs, case by case, against the recorded digest (tools/prune_digest.py).

prune, prune_messages and compress_prompt over MGSM and XQuAD's dev split, across their options, must
give what was recorded: a change of behaviour is deliberate, measured, stated in docs/ and CHANGELOG,
and recorded again with `python -m tools.prune_digest --write tests/data/prune_digest.json`.
"""

from __future__ import annotations

import json

import pytest

from tests.helpers import REPO
from tools import prune_digest

RECORDED = REPO / "tests" / "data" / "prune_digest.json"


@pytest.mark.slow
def test_dev_split_outputs_are_the_recorded_ones():
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))
    found = prune_digest.run(*prune_digest.default_setup())
    assert len(found) == len(recorded) > 4000
    differing = sorted(name for name in recorded if found.get(name) != recorded[name])
    assert not differing, f"{len(differing)} of {len(recorded)} cases differ, e.g. {differing[:5]}"
