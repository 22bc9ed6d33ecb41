"""lite inside the frameworks people already run. Nothing here is imported by `import lite`.

- common.py     what every adapter shares: a pruner, prune options checked once, one text pruned
                (for a query, where lite's prune takes one), the counts an adapter records
- langchain.py  LiteCompressor: a LangChain document compressor and document transformer
                (`pip install "lite-pruner[langchain]"`)
- llamaindex.py LitePostprocessor: a LlamaIndex node postprocessor (`pip install "lite-pruner[llamaindex]"`)
- litellm.py    LiteGuardrail: a LiteLLM pre-call guardrail that prunes chat messages
                (`pip install "lite-pruner[litellm]"`)

Corpus pruning on Ray Data is lite.ray (`pip install "lite-pruner[ray]"`). Each module imports its
framework at its top: importing one without its extra installed fails at once with the pip line.
"""
