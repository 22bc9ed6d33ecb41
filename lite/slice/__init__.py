"""Making a slice: `make_slice(source, out)`; `python -m lite.slice SOURCE` is its command line."""

from .make import SliceReport, make_slice

__all__ = ["SliceReport", "make_slice"]
