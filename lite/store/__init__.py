"""Weight files and where their bytes come from (a new weight format or transport goes here).

- stformat.py     the safetensors container: headers, dtypes, exact widening to float32
- slicefile.py    the slice file: write one, map one, read rows of it
- atomic.py       atomic file writes
- sources.py      the Source protocol and a local model folder
- hub.py          a Hugging Face hub repo as a Source (HTTP Range), and the local cache
- open_source.py  a folder or a repo id -> its Source
- checkpoint.py   a checkpoint (one file, or shards with an index) read through a Source
- gguf_header.py  a bounded check of a GGUF header before gguf-py parses it
- gguf_file.py    a GGUF file through gguf-py: metadata, tensors, dequantized rows
- gguf_config.py  a GGUF's metadata as config.json
- gguf_tokenizer.py a GGUF's tokenizer metadata as tokenizer.json
- ollama.py       `ollama:NAME[:TAG]` -> the GGUF blob of an installed Ollama model
"""
