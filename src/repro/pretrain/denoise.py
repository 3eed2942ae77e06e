"""BART's noising functions (Lewis et al. 2020, section 2.2), pure functions on token ids.

The bart-mini recipe applies, like BART-large, *sentence permutation* then *text infilling*; the
decoder reconstructs the original (unpermuted, unmasked) text.

  * Text infilling: span lengths are drawn from Poisson(lambda=3) until they cover 30% of the
    tokens; each span, including 0-length spans (which insert a mask), is replaced by ONE `<mask>`.
  * Sentence permutation: the sentences of the example are shuffled.

Differences from fairseq's `DenoisingDataset` (the BART-large run used `--mask 0.3
--mask-length span-poisson --poisson-lambda 3.5 --permute-sentences 1.0 --replace-length 1
--mask-random 0.1`), kept out for simplicity and stated here:
  * spans are counted in BPE tokens, not whole words;
  * lambda is the paper's 3, not the 3.5 of the fairseq command line;
  * no 10% random-token replacement inside the masks (`--mask-random`).

Every function takes a `numpy.random.Generator`, so the training loop can derive one from
(seed, step) and a resumed run sees the very same noise.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

# A sentence ends at . ! or ? (optionally followed by a closing quote or bracket) before whitespace.
# The corpus is partly lower-cased (movie reviews), so no capital letter is required after it.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[.!?][\"')\]])\s+")


def split_sentences(paragraph: str) -> list[str]:
    """Split a paragraph into sentences with a simple punctuation rule (abbreviations also split,
    which only makes some permuted units shorter)."""
    return [s for s in _SENTENCE_END.split(paragraph.strip()) if s]


def permute_sentences(sentences: Sequence[Sequence[int]], rng: np.random.Generator) -> list[int]:
    """Concatenate the sentences in a uniformly random order."""
    order = rng.permutation(len(sentences))
    return [tok for i in order for tok in sentences[i]]


def poisson_span_lengths(num_to_mask: int, rng: np.random.Generator, poisson_lambda: float) -> list[int]:
    """Poisson(lambda) span lengths whose sum is exactly `num_to_mask` (the last one is trimmed).

    Zero lengths are kept: each becomes an inserted `<mask>` (BART: "0-length spans correspond to
    the insertion of <mask> tokens").
    """
    lengths: list[int] = []
    total = 0
    while total < num_to_mask:
        length = int(rng.poisson(poisson_lambda))
        lengths.append(length)
        total += length
    if total > num_to_mask:
        lengths[-1] -= total - num_to_mask
    return lengths


def text_infilling(ids: Sequence[int], mask_id: int, rng: np.random.Generator,
                   mask_ratio: float = 0.3, poisson_lambda: float = 3.0) -> list[int]:
    """Replace random spans covering round(mask_ratio * len(ids)) tokens with one `mask_id` each.

    Layout: the n - k kept tokens stay in order; the spans go into distinct, uniformly chosen
    gaps between them (n - k + 1 gaps), so two masks are never adjacent and every contiguous
    run of removed tokens becomes exactly one mask.
    """
    n = len(ids)
    num_to_mask = int(round(n * mask_ratio))
    if n == 0 or num_to_mask == 0:
        return list(ids)
    lengths = poisson_span_lengths(num_to_mask, rng, poisson_lambda)
    n_kept = n - num_to_mask
    while len(lengths) > n_kept + 1:  # only for very short inputs: more spans than gaps
        if 0 in lengths:
            lengths.remove(0)
        else:
            lengths[-2] += lengths.pop()
    gaps = np.sort(rng.choice(n_kept + 1, size=len(lengths), replace=False))

    out: list[int] = []
    src = 0  # position in `ids`
    kept_so_far = 0
    for gap, length in zip(gaps, lengths):
        take = int(gap) - kept_so_far  # kept tokens before this span
        out.extend(ids[src:src + take])
        src += take
        kept_so_far += take
        out.append(mask_id)
        src += length  # the span itself is dropped
    out.extend(ids[src:])
    return out


def token_masking(ids: Sequence[int], mask_id: int, rng: np.random.Generator, mask_ratio: float = 0.3) -> list[int]:
    """BART's token masking (Lewis et al. §2.2, "following BERT"): round(mask_ratio * len(ids))
    positions, drawn without replacement, become `mask_id`; the length is kept, so source position
    i still holds (or hides) target token i."""
    out = [int(t) for t in ids]
    for i in rng.choice(len(out), size=int(round(len(out) * mask_ratio)), replace=False) if out else []:
        out[int(i)] = mask_id
    return out


NOISES = ("text_infilling", "token_masking")


def bart_noise(sentences: Sequence[Sequence[int]], mask_id: int, rng: np.random.Generator, *,
               permute: bool = True, mask_ratio: float = 0.3, poisson_lambda: float = 3.0,
               noise: str = "text_infilling") -> list[int]:
    """Sentence permutation (if `permute`), then text infilling or token masking (`noise`)."""
    ids = permute_sentences(sentences, rng) if permute else [t for s in sentences for t in s]
    if noise == "token_masking":
        return token_masking(ids, mask_id, rng, mask_ratio=mask_ratio)
    if noise != "text_infilling":
        raise ValueError(f"noise={noise!r}; choose one of {NOISES}")
    return text_infilling(ids, mask_id, rng, mask_ratio=mask_ratio, poisson_lambda=poisson_lambda)
