"""Weight files and where their bytes come from (a new weight format or transport goes here).

- stformat.py     the safetensors container: headers, dtypes, exact widening to float32
- slicefile.py    the slice file: write one, map one, read rows of it
- atomic.py       atomic file writes
- sources.py      the Source protocol and a local model folder
- hub.py          a Hugging Face hub repo as a Source (HTTP Range), and the local cache
- open_source.py  a folder or a repo id -> its Source
- checkpoint.py   a checkpoint (one file, or shards with an index) read through a Source
"""
