"""What the framework adapters share (lite/integrations/common.py), and that `import lite` loads no framework."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lite.errors import LiteError
from lite.integrations.common import check_options, counts, prune_text, resolve_pruner
from lite.prune import Pruner

FRAMEWORKS = ("langchain_core", "langchain", "llama_index", "litellm", "ray", "pydantic")

PASSAGE = "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins."


def test_import_lite_pulls_in_no_framework():
    code = f"import sys, lite; print(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_query_is_passed_as_the_question(pruner):
    question = "How many eggs does Janet sell?"
    asked = prune_text(pruner, PASSAGE, {"rate": 0.5}, query=question)
    assert asked == pruner.prune(PASSAGE, rate=0.5, question=question)
    assert asked != pruner.prune(PASSAGE, rate=0.5)
    assert prune_text(pruner, PASSAGE, {"rate": 0.5}, query="   ") == pruner.prune(PASSAGE, rate=0.5)  # no question
    assert prune_text(pruner, PASSAGE, {"rate": 0.5}) == pruner.prune(PASSAGE, rate=0.5)


def test_counts_are_flat_scalars(pruner):
    result = pruner.prune(PASSAGE, rate=0.5)
    assert counts(result) == {"lite_origin_tokens": result.origin_tokens,
                              "lite_compressed_tokens": result.compressed_tokens,
                              "lite_rate": round(result.compressed_tokens / result.origin_tokens, 6)}


def test_options_checked_once_by_prune_itself(pruner):
    assert check_options(pruner.prune, {"rate": 0.5, "method": None, "force": ("?",)}) == {"rate": 0.5,
                                                                                             "force": ("?",)}
    for options, message in [
        ({"rate": 1.5}, "rate must be in (0, 1]"),
        ({"rate": 0.5, "target_tokens": 3}, "either rate or target_tokens"),
        ({"method": "best"}, "method 'best' is not one of"),
        ({"sparsity": 0.5}, "unknown option 'sparsity' for prune; the options are: rate, target_tokens"),
        ({"separator": "\n"}, "unknown option 'separator' for prune"),  # an adapter prunes each text on its own
    ]:
        with pytest.raises(LiteError, match=message.replace("(", r"\(").replace(")", r"\)")):
            check_options(pruner.prune, options)


def test_resolve_pruner_needs_exactly_one_of_model_and_pruner(pruner, smollm2_slice):
    assert resolve_pruner(None, pruner) is pruner
    assert isinstance(resolve_pruner(smollm2_slice, None), Pruner)
    for model, given, message in [(None, None, "either model"), (smollm2_slice, pruner, "either model"),
                                  (None, "a pruner", "pruner must be a lite.Pruner"),
                                  (3, None, "model must be a slice file or a hub repo id"),
                                  ("no/such.safetensors", None, "no slice file at no/such")]:
        with pytest.raises(LiteError, match=message) as err:
            resolve_pruner(model, given)
        assert "\n" not in str(err.value)
