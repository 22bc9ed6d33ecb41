"""lite.integrations.langchain against the real langchain-core: LiteCompressor as a document compressor,
a document transformer and a Runnable; each Document pruned on its own, ids and metadata kept."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.documents import BaseDocumentCompressor, BaseDocumentTransformer, Document
from langchain_core.runnables import RunnableLambda, RunnableParallel, RunnablePassthrough

from lite.errors import LiteError
from lite.integrations.langchain import LiteCompressor
from tests.helpers import PASSAGES as TEXTS


def documents() -> list[Document]:
    return [Document(page_content=text, metadata={"source": f"doc{i}.txt", "page": i, "tags": ["a", "b"]},
                     id=f"id-{i}" if i != 1 else None) for i, text in enumerate(TEXTS)]


def test_each_document_pruned_on_its_own_with_ids_and_metadata_kept(pruner):
    compressor = LiteCompressor(pruner=pruner, rate=0.6)
    assert isinstance(compressor, BaseDocumentCompressor) and isinstance(compressor, BaseDocumentTransformer)
    docs = documents()
    before = [doc.model_copy(deep=True) for doc in docs]
    query = "How much does she make?"
    out = compressor.compress_documents(docs, query)
    assert len(out) == len(docs)  # no joining, no re-splitting on "\n\n"
    for doc, pruned in zip(docs, out):
        expected = pruner.prune(doc.page_content, rate=0.6, question=query)  # the query, as the question
        assert pruned.page_content == expected.text
        assert pruned.id == doc.id
        assert pruned.metadata == {**doc.metadata, "lite_origin_tokens": expected.origin_tokens,
                                   "lite_compressed_tokens": expected.compressed_tokens,
                                   "lite_rate": round(expected.rate, 6)}
        assert 0 < expected.compressed_tokens < expected.origin_tokens
    assert docs == before  # the input is not changed


def test_transformer_runnable_and_async_give_the_same_documents(pruner):
    compressor = LiteCompressor(pruner=pruner, target_tokens=12, force_digits=True)
    query = "How many eggs?"
    asked = compressor.compress_documents(documents(), query)
    assert asyncio.run(compressor.acompress_documents(documents(), query)) == asked
    assert [doc.page_content for doc in asked] == [pruner.prune(text, target_tokens=12, force_digits=True,
                                                                question=query).text for text in TEXTS]
    # in a chain: retrieved documents and the query side by side, into the compressor's Runnable
    retriever = RunnableLambda(lambda query: documents())
    chain = RunnableParallel(documents=retriever, query=RunnablePassthrough()) | compressor.as_runnable()
    assert chain.invoke(query) == asked
    # without a query (a transformer, a plain list into the Runnable, or use_query=False): the text alone
    alone = compressor.transform_documents(documents())
    assert [doc.page_content for doc in alone] == [pruner.prune(text, target_tokens=12, force_digits=True).text
                                                   for text in TEXTS]
    assert [doc.metadata["lite_compressed_tokens"] for doc in alone] == [12, 12, 12]
    assert "16" in alone[0].page_content
    assert asyncio.run(compressor.atransform_documents(documents())) == alone
    assert (retriever | compressor.as_runnable()).invoke(query) == alone
    assert RunnableLambda(compressor.transform_documents).invoke(documents()) == alone
    ignoring = LiteCompressor(pruner=pruner, target_tokens=12, force_digits=True, use_query=False)
    assert ignoring.compress_documents(documents(), query) == alone


def test_budget_in_a_target_tokenizer_and_its_counts(pruner):
    def words(text: str) -> int:  # a target tokenizer: any callable str -> int
        return len(text.split())

    compressor = LiteCompressor(pruner=pruner, target_tokens=8, target_tokenizer=words)
    for doc, pruned in zip(documents(), compressor.compress_documents(documents(), "q")):
        assert pruned.metadata["lite_target_origin_tokens"] == words(doc.page_content)
        assert pruned.metadata["lite_target_compressed_tokens"] == words(pruned.page_content) <= 8


@pytest.mark.parametrize("kwargs, message", [
    ({"rate": 1.5}, "LiteCompressor: rate must be in (0, 1]"),
    ({"rate": "most"}, "LiteCompressor: rate must be a number in (0, 1] or auto, got 'most'"),
    ({"rate": 0.5, "target_tokens": 10}, "LiteCompressor: give either rate or target_tokens"),
    ({"method": "best"}, "LiteCompressor: method 'best' is not one of"),
    ({"ratio": 0.5}, "LiteCompressor: unknown option 'ratio'; the options are: rate, target_tokens, method"),
    ({"roles": ["user"]}, "LiteCompressor: unknown option 'roles'"),
    ({"granularity": "page"}, "LiteCompressor: granularity 'page' is not one of clause, word, char"),
    ({"force": "?"}, "LiteCompressor: force must be a list of strings"),
    ({"pruner": None}, "LiteCompressor: give either model"),
    ({"pruner": "weights/x.safetensors"}, "LiteCompressor: pruner must be a lite.Pruner"),
])
def test_bad_options_are_one_line_errors(pruner, kwargs, message):
    with pytest.raises(LiteError) as err:
        LiteCompressor(**{"pruner": pruner, **kwargs})
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_a_slice_file_and_a_bad_document(smollm2_slice):
    compressor = LiteCompressor(model=smollm2_slice, rate=0.5)
    with pytest.raises(LiteError, match="LiteCompressor takes langchain Documents, got str"):
        compressor.compress_documents(["plain text"], "q")
    with pytest.raises(LiteError, match="expects a list of Documents or"):
        compressor.as_runnable().invoke({"docs": documents()})
    assert compressor.compress_documents([], "q") == []
    empty = compressor.compress_documents([Document(page_content="")], "q")[0]
    assert empty.page_content == "" and empty.metadata["lite_origin_tokens"] == 0
