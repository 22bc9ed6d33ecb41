"""A small on-disk cache of JSON values by key (reference answers, the peer's outputs): one JSONL file.

Appends only; the last value of a key wins; a line cut by a killed run is skipped.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def digest(parts: list) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()[:32]


class DiskCache:
    def __init__(self, path: Path):
        self.path = path
        self.values: dict[str, object] = {}
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue
                self.values[entry["key"]] = entry["value"]

    def get(self, key: str):
        return self.values.get(key)

    def put(self, key: str, value) -> None:
        self.values[key] = value
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"key": key, "value": value}, ensure_ascii=False) + "\n")
