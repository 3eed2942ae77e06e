"""Token ids -> batches, indexed by step, so that any step's batch can be rebuilt after a resume.

Data order: the blocks are shuffled once per epoch with `numpy.random.default_rng([seed, epoch])`;
step s uses positions [(s mod E) * B, (s mod E + 1) * B) of that permutation, where E is the number
of whole batches per epoch (the tail of each permutation is dropped). BART's noise for step s comes
from `default_rng([seed, 1, s])`. No iterator state exists, hence nothing to save but the step.

  * gpt2 (`LMBlocks`): paragraphs are joined into one stream, each followed by `<|endoftext|>`
    (as GPT-2's WebText documents), and cut into non-overlapping blocks of seq_len tokens.
  * bart (`DenoisingBlocks`): paragraphs are split into sentences, and consecutive sentences are
    packed greedily into blocks of at most seq_len - 2 tokens (fairseq's "complete" packing, which
    never cuts a sentence unless it alone is too long). An example is `<s> noise(block) </s>`
    -> `<s> block </s>`; the model shifts the target right to get the decoder input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .denoise import bart_noise, split_sentences
from .recipes import Recipe
from repro.tiny_tokenizer import BOS, ENDOFTEXT, EOS, MASK, PAD

IGNORE_INDEX = -100  # label value ignored by the loss (transformers' convention)


def encode(bpe, texts: list[str]) -> list[list[int]]:
    """Token ids of each text, without special tokens (`bpe` is a `tokenizers.Tokenizer`)."""
    return [e.ids for e in bpe.encode_batch(texts, add_special_tokens=False)]


def epoch_order(n_items: int, batch_size: int, seed: int, step: int) -> np.ndarray:
    """Indices of the items in step `step`'s batch (see the module docstring)."""
    per_epoch = n_items // batch_size
    if per_epoch == 0:
        raise ValueError(f"{n_items} blocks cannot fill one batch of {batch_size}: use more text or a smaller batch")
    epoch, k = divmod(step, per_epoch)
    perm = np.random.default_rng([seed, epoch]).permutation(n_items)
    return perm[k * batch_size:(k + 1) * batch_size]


@dataclass
class LMBlocks:
    """Fixed-length blocks for causal LM training; `blocks` is an int64 tensor (n_blocks, seq_len)."""

    blocks: torch.Tensor

    @classmethod
    def from_texts(cls, bpe, texts: list[str], seq_len: int) -> "LMBlocks":
        stream = np.fromiter((t for ids in encode(bpe, texts) for t in (*ids, ENDOFTEXT)), dtype=np.int64)
        n = len(stream) // seq_len
        return cls(torch.from_numpy(stream[:n * seq_len].reshape(n, seq_len).copy()))

    def __len__(self) -> int:
        return len(self.blocks)

    def batch(self, idx) -> dict:
        ids = self.blocks[torch.as_tensor(idx)]
        return {"input_ids": ids, "labels": ids}

    def train_batch(self, recipe: Recipe, step: int) -> dict:
        return self.batch(epoch_order(len(self), recipe.batch_size, recipe.seed, step))

    def eval_batches(self, recipe: Recipe, limit: int | None = None):
        n = len(self) if limit is None else min(len(self), limit * recipe.batch_size)
        for start in range(0, n, recipe.batch_size):
            yield self.batch(range(start, min(n, start + recipe.batch_size)))


@dataclass
class DenoisingBlocks:
    """Sentence-packed blocks for BART: flat `tokens`, sentence offsets, and blocks as sentence ranges."""

    tokens: np.ndarray        # all sentence tokens, concatenated
    sent_starts: np.ndarray   # sentence i = tokens[sent_starts[i]:sent_starts[i+1]]
    block_starts: np.ndarray  # block b = sentences block_starts[b] .. block_starts[b+1]-1

    @classmethod
    def from_texts(cls, bpe, texts: list[str], seq_len: int) -> "DenoisingBlocks":
        limit = seq_len - 2  # room for <s> and </s>
        sentences = []
        for paragraph in texts:
            # a space before every sentence but the first, as inside the paragraph (byte-level BPE
            # attaches a word's leading space to the word), so a sentence keeps its in-context ids
            sentences += [s if i == 0 else " " + s for i, s in enumerate(split_sentences(paragraph))]
        pieces = []  # sentences, with any longer than `limit` cut into pieces
        for ids in encode(bpe, sentences):
            pieces += [ids[i:i + limit] for i in range(0, len(ids), limit)]
        lengths = np.array([len(p) for p in pieces], dtype=np.int64)
        block_starts, used = [0], 0
        for i, n in enumerate(lengths):
            if used + n > limit:
                block_starts.append(i)
                used = 0
            used += n
        block_starts.append(len(pieces))
        tokens = np.fromiter((t for p in pieces for t in p), dtype=np.int64, count=int(lengths.sum()))
        return cls(tokens, np.concatenate([[0], np.cumsum(lengths)]), np.array(block_starts, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.block_starts) - 1

    def sentences(self, b: int) -> list[np.ndarray]:
        return [self.tokens[self.sent_starts[i]:self.sent_starts[i + 1]]
                for i in range(self.block_starts[b], self.block_starts[b + 1])]

    def batch(self, idx, rng: np.random.Generator, recipe: Recipe, source: str = "noised") -> dict:
        """source="noised": BART's training input; "mask_only": `<s><mask></s>`, so the decoder alone
        must model the text (an unconditional LM score comparable with other LMs)."""
        sources, targets = [], []
        for b in idx:
            sents = self.sentences(int(b))
            original = [int(t) for s in sents for t in s]
            if source == "noised":
                noised = bart_noise(sents, MASK, rng, permute=recipe.permute_sentences, noise=recipe.noise,
                                    mask_ratio=recipe.mask_ratio, poisson_lambda=recipe.poisson_lambda)
            elif source == "mask_only":
                noised = [MASK]
            else:
                raise ValueError(f"unknown source {source!r}")
            sources.append([BOS, *map(int, noised), EOS])
            targets.append([BOS, *original, EOS])
        input_ids, attention_mask = _pad(sources, PAD)
        labels, _ = _pad(targets, IGNORE_INDEX)
        return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}

    def train_batch(self, recipe: Recipe, step: int) -> dict:
        idx = epoch_order(len(self), recipe.batch_size, recipe.seed, step)
        return self.batch(idx, np.random.default_rng([recipe.seed, 1, step]), recipe)

    def eval_batches(self, recipe: Recipe, limit: int | None = None, source: str = "noised"):
        """Validation batches in corpus order, with noise fixed by (seed, batch number)."""
        n = len(self) if limit is None else min(len(self), limit * recipe.batch_size)
        for k, start in enumerate(range(0, n, recipe.batch_size)):
            rng = np.random.default_rng([recipe.seed, 2, k])
            yield self.batch(range(start, min(n, start + recipe.batch_size)), rng, recipe, source)


def _pad(rows: list[list[int]], value: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    out = torch.full((len(rows), width), value, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, :len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, :len(r)] = 1
    return out, mask


def build_blocks(recipe: Recipe, bpe, texts: list[str]):
    """The block set of `recipe.arch` for `texts`."""
    cls = LMBlocks if recipe.arch == "gpt2" else DenoisingBlocks
    return cls.from_texts(bpe, texts, recipe.seq_len)
