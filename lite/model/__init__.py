"""The model: what a family's layer 0 computes, read from config.json (a new family touches only this folder).

- spec.py      AttentionSpec: dims, heads, scale, norms, soft-cap, biases, tensor names
- config.py    reading config.json keys, both spellings of the rope settings
- families.py  model_type -> a builder of its AttentionSpec; `spec_from_config`, the entry point
- rope.py      RopeSpec, inverse frequencies per rope type, cos/sin, rotate-half
- weights.py   LayerWeights and the checkpoint's layer-0 tensor layout (incl. the fused-qkv split)
"""

from .families import FAMILIES, spec_from_config
from .rope import RopeSpec
from .spec import AttentionSpec
from .weights import LayerWeights, load_weights

__all__ = ["AttentionSpec", "FAMILIES", "LayerWeights", "RopeSpec", "load_weights", "spec_from_config"]
