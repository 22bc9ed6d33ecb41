"""LangChain: `LiteCompressor`, a document compressor and document transformer that prunes each Document.

    from lite.integrations.langchain import LiteCompressor
    compressor = LiteCompressor(model="weights/SmolLM2-135M-Instruct.safetensors", rate=0.6)
    docs = compressor.compress_documents(retrieved, query)     # or transform_documents(docs)
    chain = {"documents": retriever, "query": RunnablePassthrough()} | compressor.as_runnable()

Every Document is pruned on its own: its text is never joined with the others and re-split (the
LLMLingua wrappers join on "\\n\\n" and split again, which loses the document boundaries and so the
metadata). The result is a copy of each Document with the pruned page_content, the same id, and its
metadata plus lite's counts (`lite_origin_tokens`, `lite_compressed_tokens`, `lite_rate`). The input
documents are not changed. The query is passed to lite as the question when this lite's prune takes
one (question-aware pruning); otherwise it is not used: layer-0 attention scores the text alone.

With rate="auto" and a query, the Documents are ranked together as passages for the query (one call:
lite keeps the sentences relevant to it, docs/pruning.md "rate auto"), and a Document that keeps nothing
is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

try:
    from langchain_core.documents import BaseDocumentCompressor, BaseDocumentTransformer, Document
    from langchain_core.runnables import RunnableLambda
except ImportError as err:  # pragma: no cover - the message is the point
    raise ImportError(
        f'lite.integrations.langchain needs langchain-core: pip install "lite-pruner[langchain]" ({err})'
    ) from err

from ..errors import LiteError
from .common import counts
from .fields import PruneFields


class LiteCompressor(PruneFields, BaseDocumentCompressor, BaseDocumentTransformer):
    """Prune each Document's page_content with a lite slice; metadata and ids kept, counts added.

    Fields (see PruneFields): model or pruner; rate, target_tokens, method, force, force_digits,
    keep_last (per document); options (any other keyword of `Pruner.prune`); use_query.
    A bad option is a one-line LiteError when the compressor is made.
    """

    def compress_documents(
        self, documents: Sequence[Document], query: str | None = None, callbacks: Any = None
    ) -> Sequence[Document]:
        """Each Document pruned on its own (for `query` where lite can use it), in order, as new Documents; with
        rate auto, all of them ranked together for the query, and those that keep nothing left out."""
        for doc in documents:
            if not isinstance(doc, Document):
                raise LiteError(f"LiteCompressor takes langchain Documents, got {type(doc).__name__}")
        results = self.prune_all([doc.page_content for doc in documents], query)
        return [doc.model_copy(update={"page_content": result.text, "metadata": {**doc.metadata, **counts(result)}})
                for doc, result in zip(documents, results) if result is not None]

    def transform_documents(self, documents: Sequence[Document], **kwargs: Any) -> Sequence[Document]:
        """As a document transformer: `compress_documents(documents, kwargs.get("query"))`."""
        return self.compress_documents(documents, kwargs.get("query"))

    def as_runnable(self) -> RunnableLambda:
        """A Runnable taking a list of Documents, or {"documents": [...], "query": "..."}; gives the pruned list."""
        return RunnableLambda(self._invoke, name="LiteCompressor")

    def _invoke(self, value: Any) -> Sequence[Document]:
        if isinstance(value, dict):
            unknown = sorted(set(value) - {"documents", "query"})
            if unknown or "documents" not in value:
                raise LiteError(f"LiteCompressor expects a list of Documents or {{'documents', 'query'}}, got keys "
                                f"{sorted(value)}")
            return self.compress_documents(value["documents"], value.get("query"))
        return self.compress_documents(value)
