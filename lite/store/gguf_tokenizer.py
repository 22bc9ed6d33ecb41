"""A GGUF file's `tokenizer.ggml.*` metadata rebuilt as a tokenizer.json, with the `tokenizers` library only.

The target is the tokenizer transformers builds from the same file (`AutoTokenizer.from_pretrained(dir,
gguf_file=...)`, transformers/integrations/gguf/gguf_tokenizer_mapping.py): the same vocabulary,
merges, pre-tokenizer, special tokens and BOS rule, so both give the same ids.

- `tokenizer.ggml.model` "gpt2": byte-level BPE with the file's merges; the split regex of
  `tokenizer.ggml.pre` where transformers knows one (llama3, qwen2, ...), else GPT-2's.
- "llama": SentencePiece-style BPE with byte fallback and "▁" for spaces; merges from the file, else
  rebuilt from the vocabulary (Gemma: in file order; others: by score). Gemma and Phi-3 differ as in
  transformers.
- CONTROL tokens (type 3) become special added tokens, USER_DEFINED ones (type 4) plain added tokens;
  BOS (and EOS) are prepended (appended) when `tokenizer.ggml.add_bos_token` (`add_eos_token`) says so,
  BOS by default for "llama".
"""

from __future__ import annotations

from ..errors import LiteError
from .gguf_file import GGUFFile

CONTROL, USER_DEFINED = 3, 4
SPECIAL_IDS = ("bos_token_id", "eos_token_id", "unknown_token_id", "padding_token_id")
_LLAMA3 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
           r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
_QWEN2 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
          r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
_GPT4O = (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
          r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
          r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")
# tokenizer.ggml.pre -> split regex, as transformers' GGUF_PRE_TOKENIZER_SPLITS (others: GPT-2's byte-level regex)
PRE_TOKENIZER_SPLITS = {
    **dict.fromkeys(("llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
                     "dbrx", "smaug-bpe"), _LLAMA3),
    **dict.fromkeys(("qwen2", "deepseek-r1-qwen", "megrez"), _QWEN2),
    **dict.fromkeys(("gpt-4o", "llama4"), _GPT4O),
}


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable character table (the byte-level alphabet)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = printable[:], 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, map(chr, chars)))


def generate_merges(vocab: dict[str, int], scores: dict[str, float] | None = None) -> list[tuple[str, str]]:
    """Merges implied by a vocabulary (transformers' tokenization_utils_base.generate_merges, same order)."""
    reverse = scores is not None
    ranked = dict(scores) if reverse else vocab
    merges = []
    for merge, score in ranked.items():
        pairs = ((merge[:i], merge[i:]) for i in range(1, len(merge)))
        local = [(left, right, score) for left, right in pairs if left in vocab and right in vocab]
        merges.extend(sorted(local, key=lambda x: (vocab[x[0]], vocab[x[1]])))
    merges = sorted(merges, key=lambda val: (val[2], len(val[0]), len(val[1])), reverse=reverse)
    return [(left, right) for left, right, _ in merges]


def _file_merges(g: GGUFFile) -> list[tuple[str, str]] | None:
    merges = g.get("tokenizer.ggml.merges")
    return None if merges is None else [tuple(m.split(" ", 1)) for m in merges]


def _byte_level(g: GGUFFile, tokens: list[str]):
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

    spelling = bytes_to_unicode()
    alphabet = set(spelling.values())
    vocab = {t if set(t) <= alphabet else "".join(spelling[b] for b in t.encode("utf-8")): i
             for i, t in enumerate(tokens)}
    merges = _file_merges(g)
    if merges is None:
        raise LiteError(f"{g.where} has a byte-level (gpt2) tokenizer without tokenizer.ggml.merges")
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges, dropout=None, continuing_subword_prefix="",
                                     end_of_word_suffix="", fuse_unk=False))
    split = PRE_TOKENIZER_SPLITS.get(g.get("tokenizer.ggml.pre"))
    if split is None:
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    else:
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(split), behavior="isolated"),
                                                           pre_tokenizers.ByteLevel(add_prefix_space=False,
                                                                                    use_regex=False)])
    tokenizer.decoder = decoders.ByteLevel()
    return tokenizer


def _sentencepiece(g: GGUFFile, tokens: list[str], arch: str):
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers

    gemma = arch in ("gemma", "gemma2", "gemma3")
    if gemma:  # a token of spaces is stored as spaces; Gemma's merges follow the file order, not the scores
        tokens = ["\u2581" * len(t) if " " in t and not t.strip() else t for t in tokens]
    vocab = {t: i for i, t in enumerate(tokens)}
    merges = _file_merges(g)
    if merges is None:
        scores = g.require("tokenizer.ggml.scores") if not gemma else None
        order = {t: -i for i, t in enumerate(tokens)} if gemma else dict(zip(tokens, scores))
        merges = generate_merges(vocab, order)
    unk = "<unk>"  # transformers' class default; the unk id's token is also added as a special token below
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges, fuse_unk=True, byte_fallback=True, dropout=None,
                                     unk_token=unk if gemma else None))
    steps = [decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse()]
    if gemma:
        tokenizer.normalizer = normalizers.Replace(" ", "\u2581")
        tokenizer.pre_tokenizer = pre_tokenizers.Split(" ", behavior="merged_with_previous", invert=False)
    elif arch == "phi3":
        tokenizer.normalizer = normalizers.Sequence([normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")])
        steps.append(decoders.Strip(content=" ", left=1))
    else:
        tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first", split=False)
        steps.append(decoders.Strip(content=" ", left=1))
    tokenizer.decoder = decoders.Sequence(steps)
    return tokenizer


def _add_tokens(g: GGUFFile, tokenizer, tokens: list[str], byte_level: bool) -> dict[str, str]:
    """Add CONTROL, USER_DEFINED and the named special tokens; returns {bos_token: ..., ...} present in the file."""
    from tokenizers import AddedToken

    types = g.get("tokenizer.ggml.token_type") or []
    alphabet = set(bytes_to_unicode().values()) if byte_level else None
    named = {}
    for key in SPECIAL_IDS:
        index = g.get(f"tokenizer.ggml.{key}")
        if isinstance(index, int) and 0 <= index < len(tokens):
            named[key.split("_")[0]] = tokens[index]
    control = [t for t, kind in zip(tokens, types) if kind == CONTROL and (alphabet is None or set(t) <= alphabet)]
    specials = control + [t for t in named.values() if t not in control]
    tokenizer.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in specials])
    vocab = tokenizer.get_vocab()
    user = [AddedToken(t, normalized=False, special=False) for t, kind in zip(tokens, types)
            if kind == USER_DEFINED and t in vocab]
    tokenizer.add_tokens(user)
    return named


def _post_processor(g: GGUFFile, tokenizer, named: dict[str, str], default_bos: bool) -> None:
    from tokenizers import processors

    bos, eos = named.get("bos"), named.get("eos")
    add_bos = bool(g.get("tokenizer.ggml.add_bos_token", default_bos)) and bos is not None
    add_eos = bool(g.get("tokenizer.ggml.add_eos_token", False)) and eos is not None
    single = f"{bos + ':0 ' if add_bos else ''}$A:0{' ' + eos + ':0' if add_eos else ''}"
    pair = f"{single}{' ' + bos + ':1' if add_bos else ''} $B:1{' ' + eos + ':1' if add_eos else ''}"
    special = [(t, tokenizer.token_to_id(t)) for t, used in ((bos, add_bos), (eos, add_eos)) if used]
    tokenizer.post_processor = processors.TemplateProcessing(single=single, pair=pair, special_tokens=special)


def gguf_tokenizer_json(g: GGUFFile, arch: str) -> str:
    """The tokenizer.json (as a string) of the GGUF's tokenizer metadata."""
    kind = g.get("tokenizer.ggml.model")
    tokens = g.get("tokenizer.ggml.tokens")
    if not isinstance(tokens, list) or not tokens:
        raise LiteError(f"{g.where} has no tokenizer.ggml.tokens; lite needs the model's tokenizer")
    if kind == "gpt2":
        tokenizer = _byte_level(g, tokens)
    elif kind == "llama":
        tokenizer = _sentencepiece(g, tokens, arch)
    else:
        raise LiteError(f"{g.where} has tokenizer {kind!r} (tokenizer.ggml.model); lite rebuilds 'gpt2' and 'llama'")
    named = _add_tokens(g, tokenizer, tokens, byte_level=kind == "gpt2")
    _post_processor(g, tokenizer, named, default_bos=kind == "llama")
    return tokenizer.to_str()
