"""Many passages, one question: the multi-document RAG regimes (contexts.py builds them; see docs/quality.md)."""
