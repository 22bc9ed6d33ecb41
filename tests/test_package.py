"""The package as a user meets it: import cost, what it pulls in, the spec's config reading, errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lite.errors import LiteError
from lite.model import spec_from_config


def test_import_lite_pulls_in_neither_torch_nor_transformers_nor_numba():
    code = "import sys, lite; print(sorted(m for m in ('torch', 'transformers', 'numba') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


LLAMA_32_CLASSIC = {  # meta-llama/Llama-3.2-1B's config.json as published on the hub (abridged)
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 2048,
    "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 64, "vocab_size": 128256,
    "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "torch_dtype": "bfloat16",
    "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
}


def test_classic_and_new_config_keys_give_the_same_spec():
    new = {k: v for k, v in LLAMA_32_CLASSIC.items() if k not in ("rope_theta", "rope_scaling", "torch_dtype")}
    new["rope_parameters"] = {**LLAMA_32_CLASSIC["rope_scaling"], "rope_theta": 500000.0}
    new["dtype"] = "bfloat16"
    classic, modern = spec_from_config(LLAMA_32_CLASSIC), spec_from_config(new)
    assert classic == modern
    assert (classic.n_heads, classic.n_kv_heads, classic.head_dim, classic.n_rep) == (32, 8, 64, 4)
    assert classic.rope.rope_type == "llama3" and classic.rope.theta == 500000.0
    assert classic.rope.param("factor") == 32.0


def test_legacy_type_key_and_missing_head_dim():
    config = {**LLAMA_32_CLASSIC, "rope_scaling": {"type": "linear", "factor": 2.0}}
    del config["head_dim"]
    spec = spec_from_config(config)
    assert spec.rope.rope_type == "linear" and spec.head_dim == 2048 // 32 and spec.scale == 64**-0.5


def test_llama2_style_config_without_rope_scaling():
    config = {"model_type": "llama", "hidden_size": 4096, "num_attention_heads": 32, "vocab_size": 32000,
              "rope_scaling": None}
    spec = spec_from_config(config)
    assert spec.n_kv_heads == 32 and spec.rope.rope_type == "default" and spec.rope.theta == 10000.0


@pytest.mark.parametrize("change,message", [
    ({"model_type": "mamba"}, "model_type 'mamba' is not supported; supported: .*llama.*mistral"),
    ({"rope_scaling": {"rope_type": "yarn-ish", "factor": 2.0}}, "rope type 'yarn-ish' is not supported; supported:"),
    ({"num_key_value_heads": 5}, "not a multiple"),
    ({"hidden_size": None}, "has no 'hidden_size'"),
])
def test_unsupported_configs_fail_in_one_line(change, message):
    with pytest.raises(LiteError, match=message) as err:
        spec_from_config({**LLAMA_32_CLASSIC, **change})
    assert "\n" not in str(err.value)


def test_slice_cli_errors_are_one_line_without_traceback(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({**LLAMA_32_CLASSIC, "model_type": "mamba"}))
    result = subprocess.run([sys.executable, "-m", "lite.slice", str(folder), "--out", str(tmp_path / "x.st")],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: model_type 'mamba' is not supported")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.st").exists()


def test_library_calls_leave_the_process_as_they_found_it(smollm2_slice, tmp_path):
    """No process-wide side effects: scoring restores OpenBLAS's thread count; atomic_write installs no handler."""
    import signal

    import numpy as np

    from lite.score import Scorer
    from lite.score.threads import blas_thread_count
    from lite.store.atomic import atomic_write

    before = blas_thread_count()
    assert before is not None  # numpy's OpenBLAS is found, so the check below checks something
    scorer = Scorer(smollm2_slice, threads=before + 1)  # a count that differs from the process's
    for kernel in ("numpy", "numba"):
        scorer.importance(np.arange(300), kernel=kernel, method="no_self")
        assert blas_thread_count() == before
    handler = signal.getsignal(signal.SIGTERM)
    with atomic_write(tmp_path / "x.bin") as out:
        assert signal.getsignal(signal.SIGTERM) is handler
        out.write(b"x")
    assert (tmp_path / "x.bin").read_bytes() == b"x"
