"""LlamaIndex: `LitePostprocessor`, a node postprocessor that prunes each retrieved node's text.

    from lite.integrations.llamaindex import LitePostprocessor
    post = LitePostprocessor(model="weights/SmolLM2-135M-Instruct.safetensors", rate=0.6)
    engine = index.as_query_engine(node_postprocessors=[post])
    nodes = post.postprocess_nodes(nodes, query_str="...")

Each node is pruned on its own. The result is, per node, a NodeWithScore with the same score and a
copy of the node with the same id_, relationships and metadata, the pruned text, and lite's counts
added to its metadata (`lite_origin_tokens`, `lite_compressed_tokens`, `lite_rate`). Those keys are
also added to the node's excluded_llm_metadata_keys and excluded_embed_metadata_keys, so they never
reach the LLM's prompt or an embedding (they would cost the tokens pruning saved). start_char_idx /
end_char_idx still point into the source document. Nodes that are not TextNodes (TextNode includes
IndexNode and ImageNode captions) pass through unchanged. The input nodes are not changed. The query
is passed to lite as the question when this lite's prune takes one; otherwise it is not used.

With rate="auto" and a query, the nodes are ranked together as passages for the query (one call:
lite keeps the sentences relevant to it, docs/pruning.md "rate auto"), and a node that keeps nothing
is left out.
"""

from __future__ import annotations

try:
    from llama_index.core.postprocessor.types import BaseNodePostprocessor
    from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
except ImportError as err:  # pragma: no cover - the message is the point
    raise ImportError(
        f'lite.integrations.llamaindex needs llama-index-core: pip install "lite-pruner[llamaindex]" ({err})'
    ) from err

from ..errors import LiteError
from ..prune import PruneResult
from .common import COUNT_KEYS, TARGET_COUNT_KEYS, counts
from .fields import PruneFields


class LitePostprocessor(PruneFields, BaseNodePostprocessor):
    """Prune each node's text with a lite slice; ids, scores and metadata kept, counts added.

    Fields (see PruneFields): model or pruner; rate, target_tokens, method, force, force_digits,
    keep_last (per node); options (any other keyword of `Pruner.prune`); use_query.
    A bad option is a one-line LiteError when the postprocessor is made.
    """

    @classmethod
    def class_name(cls) -> str:
        return "LitePostprocessor"

    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        query = query_bundle.query_str if query_bundle is not None else None
        for item in nodes:
            if not isinstance(item, NodeWithScore):
                raise LiteError(f"LitePostprocessor takes NodeWithScore items, got {type(item).__name__}")
        texts = [k for k, item in enumerate(nodes) if isinstance(item.node, TextNode)]
        results = dict(zip(texts, self.prune_all([nodes[k].node.text for k in texts], query)))
        return [pruned_node(item, results[k]) if k in results else item for k, item in enumerate(nodes)
                if k not in results or results[k] is not None]


def pruned_node(item: NodeWithScore, result: PruneResult) -> NodeWithScore:
    """A copy of the node with the pruned text and lite's counts in its metadata, at the same score."""
    node = item.node
    pruned = node.model_copy(update={
        "text": result.text,
        "metadata": {**node.metadata, **counts(result)},
        "excluded_llm_metadata_keys": excluded(node.excluded_llm_metadata_keys),
        "excluded_embed_metadata_keys": excluded(node.excluded_embed_metadata_keys),
    })
    return NodeWithScore(node=pruned, score=item.score)


def excluded(keys: list[str]) -> list[str]:
    """The node's excluded metadata keys with lite's count keys added (once)."""
    return [*keys, *(key for key in (*COUNT_KEYS, *TARGET_COUNT_KEYS) if key not in keys)]
