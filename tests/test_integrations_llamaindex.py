"""lite.integrations.llamaindex against the real llama-index-core: LitePostprocessor on retrieved nodes and
inside a query engine; each node pruned on its own, ids, scores, relationships and metadata kept."""

from __future__ import annotations

import asyncio

import pytest
from llama_index.core import VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.llms import MockLLM
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import (
    MediaResource,
    MetadataMode,
    Node,
    NodeRelationship,
    NodeWithScore,
    QueryBundle,
    RelatedNodeInfo,
    TextNode,
)

from lite.errors import LiteError
from lite.integrations.llamaindex import LitePostprocessor
from tests.helpers import PASSAGES as TEXTS

COUNT_KEYS = ["lite_origin_tokens", "lite_compressed_tokens", "lite_rate", "lite_target_origin_tokens",
              "lite_target_compressed_tokens"]


def retrieved() -> list[NodeWithScore]:
    nodes = []
    for i, text in enumerate(TEXTS):
        node = TextNode(text=text, id_=f"node-{i}", metadata={"file_name": f"doc{i}.txt", "page": i},
                        excluded_llm_metadata_keys=["page"], start_char_idx=10 * i, end_char_idx=10 * i + len(text))
        node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=f"doc-{i}")
        nodes.append(NodeWithScore(node=node, score=0.9 - i / 10))
    return nodes


def test_each_node_pruned_with_id_score_and_metadata_kept(pruner):
    post = LitePostprocessor(pruner=pruner, rate=0.6)
    assert isinstance(post, BaseNodePostprocessor)
    nodes = retrieved()
    before = [item.model_copy(deep=True) for item in nodes]
    query = "How much does she make?"
    out = post.postprocess_nodes(nodes, query_str=query)
    assert len(out) == len(nodes)
    for item, pruned in zip(nodes, out):
        expected = pruner.prune(item.node.text, rate=0.6, question=query)
        assert pruned.node.text == expected.text and pruned.score == item.score
        assert pruned.node.id_ == item.node.id_
        assert pruned.node.relationships == item.node.relationships
        assert (pruned.node.start_char_idx, pruned.node.end_char_idx) == (item.node.start_char_idx,
                                                                          item.node.end_char_idx)
        assert pruned.node.metadata == {**item.node.metadata, "lite_origin_tokens": expected.origin_tokens,
                                        "lite_compressed_tokens": expected.compressed_tokens,
                                        "lite_rate": round(expected.rate, 6)}
        # lite's counts never reach the LLM or the embedding
        assert pruned.node.excluded_llm_metadata_keys == ["page", *COUNT_KEYS]
        assert pruned.node.excluded_embed_metadata_keys == COUNT_KEYS
        assert pruned.node.get_content(MetadataMode.LLM) == f"file_name: {item.node.metadata['file_name']}\n\n" \
                                                            f"{expected.text}"
    assert [item.model_dump() for item in nodes] == [item.model_dump() for item in before]  # input unchanged


def test_query_forms_and_async_agree_and_other_nodes_pass_through(pruner):
    post = LitePostprocessor(pruner=pruner, target_tokens=10, force=("$",))
    expected = post.postprocess_nodes(retrieved(), QueryBundle("How much?"))
    assert post.postprocess_nodes(retrieved(), query_str="How much?") == expected
    assert asyncio.run(post.apostprocess_nodes(retrieved(), query_str="How much?")) == expected
    assert [item.node.text for item in expected] == [pruner.prune(text, target_tokens=10, force=("$",),
                                                                  question="How much?").text for text in TEXTS]
    alone = post.postprocess_nodes(retrieved())  # no query: the text alone
    assert [item.node.text for item in alone] == [pruner.prune(text, target_tokens=10, force=("$",)).text
                                                  for text in TEXTS]
    assert "$" in alone[0].node.text
    image = NodeWithScore(node=Node(image_resource=MediaResource(url="https://example.org/a.png"), id_="img"),
                          score=0.5)
    assert post.postprocess_nodes([image])[0] is image  # not a TextNode: nothing to prune


def test_in_a_query_engine_the_llm_sees_the_pruned_text(pruner):
    nodes = [item.node for item in retrieved()]
    index = VectorStoreIndex(nodes, embed_model=MockEmbedding(embed_dim=8))
    post = LitePostprocessor(pruner=pruner, rate=0.5)
    engine = index.as_query_engine(llm=MockLLM(), similarity_top_k=3, node_postprocessors=[post])
    response = engine.query("Where is Paris?")
    assert sorted(item.node.id_ for item in response.source_nodes) == ["node-0", "node-1", "node-2"]
    by_id = {node.id_: node for node in nodes}
    for item in response.source_nodes:
        assert item.node.text == pruner.prune(by_id[item.node.id_].text, rate=0.5, question="Where is Paris?").text
        assert item.node.text in response.response  # MockLLM answers with the prompt it was given
    assert "lite_origin_tokens" not in response.response


@pytest.mark.parametrize("kwargs, message", [
    ({"rate": 0}, "LitePostprocessor: rate must be in (0, 1]"),
    ({"target_tokens": 0}, "LitePostprocessor: target_tokens must be a whole number of at least 1"),
    ({"keep_last": -1}, "LitePostprocessor: keep_last must be 0 or more"),
    ({"force": "?"}, "LitePostprocessor: force must be a list of strings"),
    ({"top_n": 3}, "LitePostprocessor: unknown option 'top_n'; the options are:"),
    ({"model": "missing.safetensors", "pruner": None}, "LitePostprocessor: no slice file at missing.safetensors"),
])
def test_bad_options_are_one_line_errors(pruner, kwargs, message):
    with pytest.raises(LiteError) as err:
        LitePostprocessor(**{"pruner": pruner, **kwargs})
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_a_slice_file_and_a_bad_item(smollm2_slice):
    post = LitePostprocessor(model=str(smollm2_slice))
    with pytest.raises(LiteError, match="LitePostprocessor takes NodeWithScore items, got TextNode"):
        post.postprocess_nodes([TextNode(text="a node without a score wrapper")])
    assert post.postprocess_nodes([]) == []
