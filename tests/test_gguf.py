"""GGUF files as slice sources: tiny GGUFs of every supported quant type, the real SmolLM2 and Gemma-3-270M
GGUFs, and broken files.

The reference is transformers' own GGUF loader (`from_pretrained(dir, gguf_file=...)`, dequantized, fp32,
eager), which dequantizes with its own code and undoes llama.cpp's q/k permutation and Gemma's 1 + w norms
itself; lite's slice must give the same layer-0 attention, and its tokenizer the same ids.
"""

from __future__ import annotations

import functools
import struct
from pathlib import Path

import numpy as np
import pytest

from lite.score.scorer import Scorer
from lite.slice.gguf import make_gguf_slice, unpermute_order
from lite.store.slicefile import SliceFile
from tests.helpers import RATES, assert_matches_reference, assert_one_line_error, run_slice
from tools import fixtures
from tools.gguf_fixtures import QTYPES, llama_permute, source_folder, tiny_gguf
from tools.reference import kept_set, layer0_attention_mean


@functools.lru_cache(maxsize=4)
def gguf_model(path: Path):
    """transformers' model from a GGUF file: weights dequantized to fp32, eager attention."""
    import torch
    from transformers import AutoModelForCausalLM, GgufConfig

    model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=torch.float32,
                                                 attn_implementation="eager",
                                                 quantization_config=GgufConfig(dequantize=True))
    return model.eval()


@functools.lru_cache(maxsize=2)
def gguf_tokenizer(path: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)


@pytest.fixture(scope="module")
def tiny_ids(mgsm) -> np.ndarray:
    """A real text's ids under SmolLM2's tokenizer (the tiny GGUFs carry it)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(fixtures.smollm2_folder() / "tokenizer.json"))
    return np.array(tokenizer.encode(mgsm.questions("en")[1][0]).ids[:96])


def tiny_slice(family: str, qtype: str, slices_dir: Path) -> Path:
    out = slices_dir / f"gguf-tiny-{family}-{qtype}.safetensors"
    if not out.is_file():
        make_gguf_slice(tiny_gguf(family, qtype), out)
    return out


def real_slice(real: str, slices_dir: Path) -> tuple[Path, Path]:
    """(the real GGUF, its slice): SmolLM2-135M-Instruct Q4_1 or Gemma-3-270M Q4_K_M."""
    gguf = fixtures._smollm2_gguf() if real == "smollm2" else fixtures._gemma3_gguf()
    out = slices_dir / f"gguf-real-{real}.safetensors"
    if not out.is_file():
        make_gguf_slice(gguf, out)
    return gguf, out


def test_unpermute_undoes_llama_cpp_permute():
    w = np.arange(8 * 64 * 3).reshape(8 * 64, 3)  # 8 heads of 64 rows
    assert np.array_equal(llama_permute(w, 8)[unpermute_order(8 * 64, 8)], w)
    assert not np.array_equal(llama_permute(w, 8), w)


@pytest.mark.slow
@pytest.mark.parametrize("family", ["llama", "gemma3"])
@pytest.mark.parametrize("qtype", QTYPES)
def test_tiny_gguf_slice_matches_transformers(family, qtype, slices_dir, tiny_ids):
    path = tiny_slice(family, qtype, slices_dir)
    scores = Scorer(path).importance(tiny_ids, method="attention")
    assert_matches_reference(scores, layer0_attention_mean(gguf_model(tiny_gguf(family, qtype)), tiny_ids))
    dtypes = {e.dtype for e in SliceFile(path).header.entries.values()}
    if qtype in ("F16", "BF16"):  # stored as they are, bit for bit (norms: F32, as in the file)
        assert SliceFile(path).header.entries["model.embed_tokens.weight"].dtype == qtype
    else:
        assert dtypes == {"F32"}


@pytest.mark.parametrize("family", ["llama", "gemma3"])
def test_f32_gguf_slice_holds_the_checkpoint_tensors(family, slices_dir):
    """From an F32 GGUF: the same tensors as the safetensors slicer keeps, with the Hugging Face values."""
    from safetensors.numpy import load_file

    from tests.helpers import make_slice

    folder = source_folder(family)
    ours = SliceFile(tiny_slice(family, "F32", slices_dir))
    theirs = SliceFile(make_slice(folder, slices_dir / f"gguf-source-{family}.safetensors"))
    assert sorted(ours.names()) == sorted(theirs.names())
    weights = load_file(folder / "model.safetensors")
    for name in ours.names():
        np.testing.assert_allclose(ours.float32(name), weights[name], rtol=0, atol=1e-6 if "norm" in name else 0)
    for key in ("hidden_size", "num_attention_heads", "num_key_value_heads", "head_dim", "vocab_size"):
        assert ours.config[key] == theirs.config.get(key, ours.config[key]), key


def test_llama3_rope_freqs_are_read_back_as_llama3_scaling(slices_dir, tiny_ids):
    """llama.cpp writes llama3 rope scaling as per-frequency factors; transformers' GGUF loader ignores them, so
    the reference here is the Hugging Face model the GGUF was written from (F32: the same weights)."""
    from tools.reference import reference_importance

    path = tiny_slice("llama3", "F32", slices_dir)
    scaling = SliceFile(path).config["rope_scaling"]
    assert scaling == {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                       "original_max_position_embeddings": 64}
    scores = Scorer(path).importance(tiny_ids, method="attention")
    assert_matches_reference(scores, reference_importance(source_folder("llama3"), tiny_ids))


@pytest.mark.slow
@pytest.mark.parametrize("real", ["smollm2", "gemma3"])
def test_real_gguf_slice_matches_transformers(real, slices_dir, mgsm):
    gguf, out = real_slice(real, slices_dir)
    from lite.prune import load

    pruner = load(out)
    model = gguf_model(gguf)
    for lang in ("en", "zh", "sw"):
        ids = np.array(pruner.tokenizer.encode(mgsm.questions(lang)[0][0]).ids)
        assert_matches_reference(pruner.scorer.importance(ids, method="attention"), layer0_attention_mean(model, ids))


@pytest.mark.slow
@pytest.mark.parametrize("real", ["smollm2", "gemma3"])
def test_real_gguf_tokenizer_matches_transformers(real, slices_dir, mgsm_texts):
    gguf, out = real_slice(real, slices_dir)
    from tokenizers import Tokenizer

    ours = Tokenizer.from_str(SliceFile(out).tokenizer_json)
    theirs = gguf_tokenizer(gguf)
    for lang, texts in mgsm_texts.items():
        for text in [*texts, "  two  spaces\n\n\ttab <|im_start|> <bos> 12345"]:
            assert ours.encode(text).ids == theirs(text)["input_ids"], (lang, text[:40])


def test_quantized_kept_sets_stay_close_to_f16(slices_dir, tiny_ids):
    """Q8_0 barely moves the kept set of the tiny model; Q4_0 and Q4_K move it a little (see docs/gguf.md)."""
    reference = Scorer(tiny_slice("llama", "F16", slices_dir)).importance(tiny_ids, method="attention")
    for qtype, floor in (("Q8_0", 0.95), ("Q4_0", 0.8), ("Q4_K", 0.8)):
        scores = Scorer(tiny_slice("llama", qtype, slices_dir)).importance(tiny_ids, method="attention")
        for rate in RATES:
            ours, theirs = kept_set(scores, rate), kept_set(reference, rate)
            assert len(ours & theirs) / len(ours | theirs) >= floor, (qtype, rate)


# ---- broken files: one line on stderr, exit 2, no output file -----------------------------------------------
def _part_offset(reader, part: np.ndarray) -> int:
    return part.__array_interface__["data"][0] - reader.data.__array_interface__["data"][0]


def _patched(source: Path, target: Path, patch) -> Path:
    """A copy of `source` with `patch(reader, raw: bytearray)` applied to its bytes."""
    import gguf

    raw = bytearray(source.read_bytes())
    patch(gguf.GGUFReader(source), raw)
    target.write_bytes(bytes(raw))
    return target


def _tensor_field(reader, name: str, index: int) -> int:
    tensor = next(t for t in reader.tensors if t.name == name)
    return _part_offset(reader, tensor.field.parts[index])


def _set(raw: bytearray, offset: int, fmt: str, value: int) -> None:
    raw[offset : offset + struct.calcsize(fmt)] = struct.pack(fmt, value)


BAD_FILES = {  # name -> (how the good tiny Q4_0 file is broken, words the error line holds)
    "truncated": (lambda r, raw: raw.__delitem__(slice(len(raw) // 2, None)), "past the end of the file"),
    "truncated-header": (lambda r, raw: raw.__delitem__(slice(5000, None)), "truncated"),
    "magic": (lambda r, raw: raw.__setitem__(slice(0, 4), b"GGML"), "GGUF magic"),
    "version": (lambda r, raw: _set(raw, 4, "<I", 99), "GGUF version 99"),
    "tensor-count": (lambda r, raw: _set(raw, 8, "<Q", 1 << 60), "more than"),
    "kv-count": (lambda r, raw: _set(raw, 16, "<Q", 1 << 60), "more than"),
    "array-count": (lambda r, raw: _set(raw, _part_offset(r, r.fields["tokenizer.ggml.tokens"].parts[4]), "<Q",
                                        1 << 40), "items"),
    "tensor-offset": (lambda r, raw: _set(raw, _tensor_field(r, "token_embd.weight", 5), "<Q", len(raw)),
                      "runs past the end"),
    "tensor-type": (lambda r, raw: _set(raw, _tensor_field(r, "blk.0.attn_q.weight", 4), "<I", 20),  # IQ4_NL
                    "IQ4_NL"),
    "empty": (lambda r, raw: raw.clear(), "empty"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_broken_gguf_is_one_line_and_no_output(case, tmp_path, slicer_env):
    patch, words = BAD_FILES[case]
    bad = _patched(tiny_gguf("llama", "Q4_0"), tmp_path / f"{case}.gguf", patch)
    out = tmp_path / "out" / "slice.safetensors"
    result = run_slice(slicer_env, str(bad), "--out", str(out))
    assert_one_line_error(result, words)
    assert "Traceback" not in result.stderr
    assert not out.exists() and not list(tmp_path.glob("out/*"))


def test_a_missing_gguf_is_one_line(tmp_path, slicer_env):
    assert_one_line_error(run_slice(slicer_env, str(tmp_path / "nothing.gguf")), "no GGUF file at")
