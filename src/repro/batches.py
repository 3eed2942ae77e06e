"""Text pairs -> tensors in the methods' batch contract (`repro.methods.base`), and back.

Decoder-only (GPT-2), as the reference data format (implementation_notes §7.2): the sequence is
``x <eos> y <eos>``, text encoded with a leading space, labels -100 over x and the separator,
right-padded for training. Prompts for decoding are ``x <eos>``, left-padded. (The reference
encodes the whole string ``' {x} {eos} {y} {eos}'`` with transformers 3, which strips the spaces
around special tokens; encoding ``' x'`` and ``' y'`` separately gives the same ids.)

Encoder-decoder (BART): the tokenizer's own special tokens around source and target
(``<s> x </s>``), as `prepare_seq2seq_batch` in the reference's seq2seq code.

Sources longer than `max_source_tokens` are truncated (XSUM: 512 BPE tokens, the paper's setting).
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


def _encode(tokenizer, text: str, special: bool) -> list[int]:
    return tokenizer(text if special else " " + text.strip(), add_special_tokens=special)["input_ids"]


def _pad(rows: list[list[int]], value: int, left: bool) -> torch.Tensor:
    width = max(len(r) for r in rows)
    return torch.tensor([[value] * (width - len(r)) + r if left else r + [value] * (width - len(r)) for r in rows])


class Collator:
    """Builds training batches and decoding prompts for one tokenizer and architecture."""

    def __init__(self, tokenizer, encoder_decoder: bool, max_source_tokens: int | None = None,
                 max_target_tokens: int | None = None, source_prefix: str = ""):
        self.tokenizer, self.encoder_decoder = tokenizer, encoder_decoder
        self.source_prefix = source_prefix.strip()
        self.max_source, self.max_target = max_source_tokens, max_target_tokens
        self.eos = tokenizer.eos_token_id
        self.pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.eos

    def source_ids(self, source: str) -> list[int]:
        if self.source_prefix:
            source = f"{self.source_prefix} {source.strip()}"
        if self.encoder_decoder:
            ids = _encode(self.tokenizer, source, special=True)
            return ids[:self.max_source - 1] + [ids[-1]] if self.max_source and len(ids) > self.max_source else ids
        ids = _encode(self.tokenizer, source, special=False)[:self.max_source] if self.max_source else \
            _encode(self.tokenizer, source, special=False)
        return ids + [self.eos]

    def target_ids(self, target: str) -> list[int]:
        if self.encoder_decoder:
            ids = _encode(self.tokenizer, target, special=True)
        else:
            ids = _encode(self.tokenizer, target, special=False) + [self.eos]
        return ids[:self.max_target] if self.max_target else ids

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
        rows = [self.source_ids(s) for s in sources]
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
