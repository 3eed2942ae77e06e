"""Text pairs -> tensors in the methods' batch contract (`repro.methods.base`), and back.

Decoder-only (GPT-2), as the reference data format (implementation_notes §7.2): the sequence is
``x <eos> y <eos>``, text encoded with a leading space, labels -100 over x and the separator,
right-padded for training. Prompts for decoding are ``x <eos>``, left-padded.

`token_layout` says how the text around each ``<eos>`` is encoded:

* ``joined`` (default): ``' x'`` and ``' y'`` are encoded on their own and ``<eos>`` follows each,
  with no token for the space before it.
* ``reference``: the ids of the reference's string ``' {x} {eos} {y} {eos}'`` (training) and
  ``' {x} {eos}'`` (decoding prompt) as its transformers 3.2 tokenizes them: the text is split at
  the special token and each piece, ``' x '`` and ``' y '``, BPE-encoded as it is, so a separate
  space token (GPT-2's ``Ġ``, id 220) comes before every ``<eos>`` and is a target token the model
  learns to emit. 3.2's GPT-2 tokenizer makes ``<|endoftext|>`` an ``AddedToken(lstrip=False,
  rstrip=False)`` (tokenization_gpt2.py), and ``split_on_token`` strips the text beside such a
  token only when it says so (tokenization_utils.py); the space is not stripped.

Encoder-decoder (BART): the tokenizer's own special tokens around source and target
(``<s> x </s>``), as `prepare_seq2seq_batch` in the reference's seq2seq code.

Sources longer than `max_source_tokens` are truncated (XSUM: 512 BPE tokens, the paper's setting);
encoder-decoder sources and targets longer than their limit keep their end token (``</s>``), as
`prepare_seq2seq_batch(..., truncation=True)` cuts the text and then adds the special tokens (T5X /
seqio likewise append EOS after trimming). `truncate_prompts=False` leaves decoding prompts whole
(T5X's `infer_eval` computes its feature lengths from the data: Lester's evaluation inputs are
never cut), while training sources are still cut.
A `source_prefix` is put in front of every source, separated by a space, before encoding and
truncation (the reference's low-data fine-tuning inputs ``' {lowdata_token} {src} {bos} ...'``).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Batch:
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    labels: torch.Tensor | None = None

    def to(self, device) -> "Batch":
        return Batch(*(t.to(device) if t is not None else None for t in (self.input_ids, self.attention_mask, self.labels)))

    def as_kwargs(self) -> dict:
        return {"input_ids": self.input_ids, "attention_mask": self.attention_mask, "labels": self.labels}


TOKEN_LAYOUTS = ("joined", "reference")


def _encode(tokenizer, text: str, special: bool, trailing_space: bool = False) -> list[int]:
    if special:
        return tokenizer(text, add_special_tokens=True)["input_ids"]
    return tokenizer(" " + text.strip() + (" " if trailing_space else ""), add_special_tokens=False)["input_ids"]


def _cut(ids: list[int], limit: int | None, keep_end: bool) -> list[int]:
    """The first `limit` ids; with `keep_end`, the last id (an end token) stays in the last place."""
    if not limit or len(ids) <= limit:
        return ids
    return ids[:limit - 1] + [ids[-1]] if keep_end else ids[:limit]


def _pad(rows: list[list[int]], value: int, left: bool) -> torch.Tensor:
    width = max(len(r) for r in rows)
    return torch.tensor([[value] * (width - len(r)) + r if left else r + [value] * (width - len(r)) for r in rows])


class Collator:
    """Builds training batches and decoding prompts for one tokenizer and architecture."""

    def __init__(self, tokenizer, encoder_decoder: bool, max_source_tokens: int | None = None,
                 max_target_tokens: int | None = None, source_prefix: str = "", token_layout: str = "joined",
                 truncate_prompts: bool = True):
        if token_layout not in TOKEN_LAYOUTS:
            raise ValueError(f"token_layout={token_layout!r}; choose one of {TOKEN_LAYOUTS}")
        self.tokenizer, self.encoder_decoder = tokenizer, encoder_decoder
        self.source_prefix = source_prefix.strip()
        self.max_source, self.max_target = max_source_tokens, max_target_tokens
        self.space_before_eos = token_layout == "reference"  # decoder-only; BART's specials are its own
        self.truncate_prompts = truncate_prompts
        self.eos = tokenizer.eos_token_id
        self.pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.eos

    def source_ids(self, source: str, truncate: bool = True) -> list[int]:
        if self.source_prefix:
            source = f"{self.source_prefix} {source.strip()}"
        limit = self.max_source if truncate else None
        if self.encoder_decoder:
            return _cut(_encode(self.tokenizer, source, special=True), limit, keep_end=True)
        return _cut(_encode(self.tokenizer, source, special=False, trailing_space=self.space_before_eos), limit,
                    keep_end=False) + [self.eos]

    def target_ids(self, target: str) -> list[int]:
        if self.encoder_decoder:
            return _cut(_encode(self.tokenizer, target, special=True), self.max_target, keep_end=True)
        ids = _encode(self.tokenizer, target, special=False, trailing_space=self.space_before_eos) + [self.eos]
        return _cut(ids, self.max_target, keep_end=False)

    def pair_length(self, source: str, target: str) -> int:
        """The positions a training pair takes in a batch row: source + target (decoder-only), the
        longer of the two (encoder-decoder)."""
        s, t = len(self.source_ids(source)), len(self.target_ids(target))
        return max(s, t) if self.encoder_decoder else s + t

    def train_batch(self, pairs: list[tuple[str, str]]) -> Batch:
        if self.encoder_decoder:
            src = [self.source_ids(s) for s, _ in pairs]
            tgt = [self.target_ids(t) for _, t in pairs]
            ids = _pad(src, self.pad, left=False)
            labels = _pad(tgt, -100, left=False)
            return Batch(ids, _pad([[1] * len(r) for r in src], 0, left=False), labels)
        rows, labels = [], []
        for source, target in pairs:
            s, t = self.source_ids(source), self.target_ids(target)
            rows.append(s + t)
            labels.append([-100] * len(s) + t)
        return Batch(_pad(rows, self.pad, left=False), _pad([[1] * len(r) for r in rows], 0, left=False),
                     _pad(labels, -100, left=False))

    def prompt_batch(self, sources: list[str]) -> Batch:
        """Decoding inputs: the source (BART, right-padded) or the prompt ``x <eos>`` (GPT-2, left-padded)."""
        rows = [self.source_ids(s, truncate=self.truncate_prompts) for s in sources]
        left = not self.encoder_decoder
        return Batch(_pad(rows, self.pad, left=left), _pad([[1] * len(r) for r in rows], 0, left=left))

    def decode(self, token_ids: torch.Tensor) -> list[str]:
        """Generated ids -> text: cut at the first end-of-sequence token, drop special tokens, strip."""
        texts = []
        for row in token_ids.tolist():
            if self.encoder_decoder and row and row[0] == getattr(self.tokenizer, "eos_token_id", None):
                row = row[1:]  # BART's decoder_start_token is </s>
            if self.eos in row:
                row = row[:row.index(self.eos)]
            texts.append(self.tokenizer.decode(row, skip_special_tokens=True).strip())
        return texts
