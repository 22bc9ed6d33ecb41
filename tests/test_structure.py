"""Structure detection (lite/prune/structure/detect.py): cheap, and wrong only towards prose.

No model here: detection reads the text only. MGSM and XQuAD (every question, exemplar, few-shot
prompt, paragraph and article, all languages) must all be prose, so that structure="auto" leaves
their pruning byte-identical (tests/test_structure_prune.py checks outputs on a sample).
"""

from __future__ import annotations

import json

import pytest

from bench.structured import DATA, corpus
from lite.prune.structure.detect import detect
from tools import xquad

HOTELS = {"results": [{"id": "h-1", "name": "Casa", "price": 142.0, "ok": True, "note": None}]}


@pytest.mark.parametrize(("text", "kind"), [
    (json.dumps(HOTELS, indent=2), "json"),
    (json.dumps(HOTELS), "json"),
    ("  [1, 2, {\"a\": \"b\"}]\n", "json"),
    ('{"a": 1}\n{"a": 2}\n', "jsonl"),
    ("{not json at all}", "text"),
    ('{"a": 1, "b": }', "text"),
    ("[citation needed] and more [1]", "text"),
    ("42", "text"),
    ('"a quoted sentence"', "text"),
    ("# Title\n\nSome text.\n\n## Usage\n\nMore text.\n", "markdown"),
    ("Intro\n\n```bash\npip install lite\n```\n", "markdown"),
    ("| a | b |\n|---|---|\n| 1 | 2 |\n", "markdown"),
    ("# Title\n\n- one\n- two\n", "markdown"),
    ("- one\n- two\n- three\n", "text"),  # a plain list is prose
    ("1. Mix the flour.\n2. Add the eggs.\n3. Bake for 20 minutes.\n", "text"),
    ("# only one heading\nand a line of text.\n", "text"),
    ("import os\n\n\ndef main():\n    path = os.getcwd()\n    return path\n\n\nclass A:\n    pass\n", "code"),
    ("# a comment\nimport sys\nfrom os import path\nx = 1\nprint(x)\n", "code"),
    ("The meeting is at 10:00; bring the report.\nThen lunch.\n", "text"),
    ("", "text"),
])
def test_detect(text, kind):
    assert detect(text) == kind


def test_named_structure_is_still_checked():
    assert detect("{broken", "json") == "text"
    assert detect("plain words", "markdown") == "markdown"
    assert detect(json.dumps(HOTELS), "text") == "text"
    assert detect(json.dumps(HOTELS), "markdown") == "markdown"  # the caller's word, but for JSON


def test_every_mgsm_and_xquad_text_is_prose(mgsm):
    texts = []
    for lang in mgsm.LANGUAGES:
        texts += [q for q, _ in mgsm.questions(lang)] + mgsm.exemplars(lang)
        texts += [mgsm.prompt(lang, i) for i in range(3)]
        texts.append("\n\n".join(mgsm.exemplars(lang)))
    for lang in xquad.LANGUAGES:
        paragraphs = xquad.paragraphs(lang)
        texts += [p["context"] for p in paragraphs] + [q["question"] for p in paragraphs for q in p["qas"]]
        texts += ["\n\n".join(xquad.article(lang, i)) for i in range(0, len(paragraphs), xquad.PER_ARTICLE)]
    kinds = {text[:80]: detect(text) for text in texts}
    assert len(texts) > 11_000
    assert {k: v for k, v in kinds.items() if v != "text"} == {}


def test_corpus_documents_detect_as_their_type():
    expected = {"json": ("json", "jsonl"), "markdown": ("markdown",), "code": ("code",)}
    for name, spec in corpus():
        if spec["type"] == "trace":
            continue
        assert detect((DATA / name).read_text(encoding="utf-8")) in expected[spec["type"]], name
