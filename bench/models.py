"""What the benchmark scores: a Llama-3.2-1B-shaped random model and its slice, and SmolLM2's slice.

The Llama-shaped folder (tools/llama_shaped.py, random bf16, 2.47 GB) is cached beside the test
fixtures ($LITE_TEST_CACHE or ~/.cache/lite-tests); its slice is made through the local fake hub on
every run, since that run is the slicer's measurement. SmolLM2-135M's slice comes from its folder.
"""

from __future__ import annotations

from pathlib import Path

from tools import fixtures, llama_shaped

from .slicer import SlicerResult, slice_through_hub

LLAMA_REPO = "meta-llama/Llama-3.2-1B"
LLAMA_SEED = 0


def llama_folder() -> Path:
    """The Llama-3.2-1B-shaped folder with random weights (written once, ~40 s)."""
    tokenizer = fixtures.smollm2_folder() / "tokenizer.json"
    return fixtures.cached(f"llama-3.2-1b-shaped-random-{LLAMA_SEED}",
                           lambda folder: llama_shaped.write_folder(folder, tokenizer, seed=LLAMA_SEED))


def llama_slice(work: Path) -> tuple[Path, SlicerResult]:
    """Slice the Llama-shaped folder through the fake hub into `work`."""
    out = work / "Llama-3.2-1B.safetensors"
    return out, slice_through_hub(LLAMA_REPO, llama_folder(), out)


def smollm2_slice(work: Path) -> tuple[Path, Path]:
    """(SmolLM2's folder, its slice in `work`)."""
    from lite.slice import make_slice

    folder = fixtures.smollm2_folder()
    out = work / "SmolLM2-135M.safetensors"
    make_slice(folder, out)
    return folder, out
