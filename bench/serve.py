"""A bounded load run of `lite-pruner serve` on loopback: what the proxy adds to a chat request.

    python -m bench.serve [--requests 2000] [--concurrency 16] [--workers 2] [--out bench/results/serve.md]

The service runs as its own process (`python -m lite.serve`, the real SmolLM2-135M slice) in front of a
fake OpenAI-compatible upstream that answers at once (tools/fake_upstream.py, in this process). Chat
payloads of 300-3,000 tokens (MGSM few-shot turns in several languages, the question last) are sent
`--requests` times at `--concurrency`, first straight to the upstream (the baseline), then through
lite. Reported: requests/s, latency percentiles of both, the added latency (lite minus direct, at
each percentile), the service's own prune time (its /metrics), errors (must be 0), and the service's
RSS before and after the run (after a warm-up; it must stay flat). Everything stays on 127.0.0.1 and
stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.paths import REPO, RESULTS

LANGUAGES = ("en", "de", "fr", "es", "ru", "zh")


def payloads(count_tokens, count: int, low: int, high: int, seed: int = 0) -> list[tuple[int, dict]]:
    """`count` chat payloads of low..high pruner tokens: a system prompt, few-shot user/assistant turns, a question."""
    from tools import mgsm

    rng = random.Random(seed)
    turns = [(lang, shot) for lang in LANGUAGES for shot in mgsm.exemplars(lang)]
    out = []
    for _ in range(count):
        goal = rng.randint(low, high)
        lang = rng.choice(LANGUAGES)
        question = rng.choice(mgsm.questions(lang))[0]
        messages = [{"role": "system", "content": "Solve the problem. End with 'The answer is N'."}]
        tokens = count_tokens(question) + count_tokens(messages[0]["content"])
        for _, shot in rng.sample(turns, len(turns)):
            q, a = shot.split("\n", 1)
            tokens += count_tokens(q) + count_tokens(a)
            messages += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
            if tokens >= goal:
                break
        messages.append({"role": "user", "content": question})
        out.append((tokens, {"model": "fake-model", "messages": messages, "temperature": 0, "max_tokens": 64}))
    return out


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def start_service(slice_path: Path, upstream: str, workers: int) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen(
        [sys.executable, "-m", "lite.serve", "--model", str(slice_path), "--port", "0", "--upstream", upstream,
         "--workers", str(workers), "--max-pending", "256"],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        match = re.search(r"running on (http://127\.0\.0\.1:\d+)", line)
        if match:
            threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()  # drain the log
            return process, match.group(1)
        if not line and process.poll() is not None:
            break
    process.kill()
    raise RuntimeError("the service did not start")


async def load(url: str, bodies: list[bytes], concurrency: int, timeout: float) -> tuple[list[float], int, float]:
    """POST every body to url, `concurrency` at a time: (latencies in s, errors, wall seconds)."""
    import httpx

    latencies: list[float] = []
    errors = 0
    queue = list(reversed(bodies))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
        async def worker() -> None:
            nonlocal errors
            while queue:
                body = queue.pop()
                start = time.perf_counter()
                try:
                    response = await client.post(url, content=body, headers={
                        "Content-Type": "application/json", "Authorization": "Bearer sk-bench"})
                    await response.aread()
                    ok = response.status_code == 200
                except Exception:
                    ok = False
                latencies.append(time.perf_counter() - start)
                errors += not ok

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies, errors, time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="the service's prune threads")
    parser.add_argument("--payloads", type=int, default=64, help="distinct chat payloads, cycled")
    parser.add_argument("--out", type=Path, default=RESULTS / "serve.md")
    parser.add_argument("--note", default="", help="a line added to the report (e.g. how busy the machine was)")
    args = parser.parse_args(argv)

    import httpx

    import lite
    from lite.slice import make_slice
    from lite.store.sources import LocalFolder
    from tools import fixtures
    from tools.fake_upstream import FakeUpstream, ServerThread

    with tempfile.TemporaryDirectory(prefix="lite-bench-serve-") as work:
        slice_path = Path(work) / "SmolLM2-135M-Instruct.safetensors"
        make_slice(LocalFolder(fixtures.smollm2_folder()), slice_path)
        pruner = lite.load(slice_path, threads=1)
        chats = payloads(pruner.count_tokens, args.payloads, 300, 3000)
        bodies = [json.dumps(chats[i % len(chats)][1]).encode() for i in range(args.requests)]
        tokens = [chats[i % len(chats)][0] for i in range(args.requests)]
        fake = FakeUpstream()
        with ServerThread(fake.app()) as upstream:
            service, url = start_service(slice_path, f"{upstream.url}/v1", args.workers)
            try:
                print(f"service at {url}; warm-up", flush=True)
                warm = [json.dumps(c[1]).encode() for c in chats[:16]]
                _, warm_errors, _ = asyncio.run(load(f"{url}/v1/chat/completions", warm, min(4, args.concurrency), 300))
                rss_before = rss_mib(service.pid)
                before = httpx.get(f"{url}/metrics").text
                print(f"direct to the upstream: {args.requests} requests", flush=True)
                direct, direct_errors, direct_wall = asyncio.run(
                    load(f"{upstream.url}/v1/chat/completions", bodies, args.concurrency, 300))
                alone = bodies[: min(100, len(bodies))]
                print(f"one at a time: {len(alone)} requests, direct and through lite", flush=True)
                direct_alone, _, _ = asyncio.run(load(f"{upstream.url}/v1/chat/completions", alone, 1, 300))
                through_alone, alone_errors, _ = asyncio.run(load(f"{url}/v1/chat/completions", alone, 1, 300))
                fake.received.clear()
                print(f"through lite: {args.requests} requests at concurrency {args.concurrency}", flush=True)
                through, errors, wall = asyncio.run(
                    load(f"{url}/v1/chat/completions", bodies, args.concurrency, 300))
                after = httpx.get(f"{url}/metrics").text
                rss_after = rss_mib(service.pid)
                forwarded = len(fake.received)
            finally:
                service.terminate()
                service.wait(timeout=30)
    prune_count = metric(after, "lite_prune_seconds_count") - metric(before, "lite_prune_seconds_count")
    prune_sum = metric(after, "lite_prune_seconds_sum") - metric(before, "lite_prune_seconds_sum")
    saved = metric(after, "lite_tokens_saved_total") - metric(before, "lite_tokens_saved_total")
    tokens_in = metric(after, "lite_tokens_in_total") - metric(before, "lite_tokens_in_total")
    rows = [(q, percentile(direct, q), percentile(through, q)) for q in (50, 90, 99)]
    report = [
        "# lite-pruner serve: load on loopback",
        "",
        (f"`python -m bench.serve --requests {args.requests} --concurrency {args.concurrency} --workers {args.workers}`"
        f" ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, load average before the run {os.getloadavg()[0]:.1f})."),
        "",
        (f"- Payloads: {args.payloads} distinct chats of {min(t for t, _ in chats)}-{max(t for t, _ in chats)} "
        f"pruner tokens (mean {statistics.mean(tokens):.0f}): MGSM few-shot user/assistant turns in "
        f"{', '.join(LANGUAGES)}, a system prompt, the question last; pruned at the library's default rate (0.9)."),
        (f"- Service: `python -m lite.serve` (uvicorn, {args.workers} prune threads, 1 BLAS thread each), real "
        "SmolLM2-135M slice; upstream: tools/fake_upstream.py answering at once, in the load generator's process."),
        f"- The same {args.requests} requests straight to the upstream first (baseline), then through lite.",
        "",
        "| | requests/s | p50 ms | p90 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|",
        f"| direct to the upstream | {len(direct) / direct_wall:.1f} | "
        + " | ".join(f"{1000 * d:.1f}" for _, d, _ in rows) + f" | {direct_errors} |",
        f"| through lite | {len(through) / wall:.1f} | "
        + " | ".join(f"{1000 * t:.1f}" for _, _, t in rows) + f" | {errors} |",
        "| **added by lite** | | " + " | ".join(f"**{1000 * (t - d):.1f}**" for _, d, t in rows) + " | |",
        "",
        (f"One request at a time ({len(alone)} requests, no queueing): added latency p50 "
         f"{1000 * (percentile(through_alone, 50) - percentile(direct_alone, 50)):.1f} ms, p99 "
         f"{1000 * (percentile(through_alone, 99) - percentile(direct_alone, 99)):.1f} ms "
         f"(direct p50 {1000 * percentile(direct_alone, 50):.1f} ms; errors {alone_errors})."),
        "",
        (f"- Errors: {errors} of {len(through)} through lite (warm-up: {warm_errors}); the upstream received "
        f"{forwarded} requests."),
        (f"- lite's own prune time (its /metrics): {prune_count:.0f} prunes, "
         f"mean {1000 * prune_sum / prune_count:.1f} ms"
        f" of a prune thread; tokens in {tokens_in:.0f}, saved {saved:.0f} ({100 * saved / tokens_in:.1f}%)."),
        (f"- Service RSS: {rss_before:.0f} MiB after the warm-up, {rss_after:.0f} MiB after the run "
        f"({rss_after - rss_before:+.0f} MiB)."),
        (f"- Added latency at concurrency {args.concurrency} is mostly queueing: the requests share "
         f"{args.workers} prune threads on {os.cpu_count()} cores (with the load generator and the upstream), so "
         "each waits for the others' pruning; one request alone adds about its own prune time."),
    ]
    if args.note:
        report += ["", args.note]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(report) + "\n", encoding="utf-8")
    print("\n".join(report))
    return 1 if errors or alone_errors else 0


if __name__ == "__main__":
    sys.exit(main())
