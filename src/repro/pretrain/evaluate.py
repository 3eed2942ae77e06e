"""Validation perplexity of a pretrained mini model, and the unigram baseline on the same tokens.

Perplexity = exp(total NLL / number of scored tokens), over exactly these target tokens:
  * gpt2: every block position but the first (the model predicts token t+1 from tokens <= t);
  * bart: every label token, `<s>` and `</s>` included (the decoder predicts all of them).
`target_ids` returns those tokens, and `unigram_perplexity` scores the very same ones, so both
numbers have the same token count.

For bart the main number is the *denoising* perplexity (the encoder sees the noised text, with
fixed validation noise), i.e. the training objective; the decoder copies most tokens, so it is not
a language-model perplexity. `score` therefore also reports the perplexity with the source reduced
to `<s><mask></s>`, where the decoder alone must model the text; that one is the fair comparison
with the unigram baseline.

Unigram baseline: p(w) = (c(w) + 1) / (N + V) with add-one (Laplace) smoothing, where c counts
the tokens of the *training* blocks in the same format (gpt2: the training stream including
`<|endoftext|>`; bart: `<s> block </s>` per block), N is their total and V the vocabulary size.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
import torch.nn.functional as F

from .data import IGNORE_INDEX, DenoisingBlocks, LMBlocks, build_blocks


def _targets(batch: dict, arch: str) -> torch.Tensor:
    """The target ids the model is scored on, as a 1-D tensor (row-major order)."""
    labels = batch["labels"]
    if arch == "gpt2":
        return labels[:, 1:].reshape(-1)
    return labels[labels != IGNORE_INDEX]


@torch.no_grad()
def nll_sum(model, batches, arch: str) -> tuple[float, int]:
    """(sum of token NLL in nats, number of scored tokens) over `batches`; fp32 accumulation."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for batch in batches:
        inputs = {"input_ids": batch["input_ids"]} if arch == "gpt2" else batch  # bart: labels -> decoder input
        logits = model(**inputs).logits
        labels = batch["labels"]
        if arch == "gpt2":
            logits, labels = logits[:, :-1], labels[:, 1:]
        loss = F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), labels.reshape(-1),
                               ignore_index=IGNORE_INDEX, reduction="sum")
        total += loss.item()
        count += int((labels != IGNORE_INDEX).sum())
    model.train(was_training)
    return total, count


def perplexity(model, batches, arch: str) -> dict:
    total, count = nll_sum(model, batches, arch)
    return {"loss": total / count, "ppl": math.exp(total / count), "tokens": count}


def target_ids(batches, arch: str) -> torch.Tensor:
    """All target tokens that `perplexity` scores on these batches, concatenated."""
    return torch.cat([_targets(b, arch) for b in batches])


def unigram_counts(blocks, vocab_size: int) -> torch.Tensor:
    """Token counts of the training blocks (see the module docstring for the format)."""
    from repro.tiny_tokenizer import BOS, EOS

    if isinstance(blocks, LMBlocks):
        ids = blocks.blocks.reshape(-1)
        counts = torch.bincount(ids, minlength=vocab_size)
    elif isinstance(blocks, DenoisingBlocks):
        counts = torch.bincount(torch.from_numpy(blocks.tokens), minlength=vocab_size)
        counts[BOS] += len(blocks)
        counts[EOS] += len(blocks)
    else:
        raise TypeError(type(blocks))
    return counts.double()


def unigram_log_probs(counts: torch.Tensor) -> torch.Tensor:
    """Add-one smoothed unigram log-probabilities (len(counts) = V)."""
    return torch.log((counts + 1.0) / (counts.sum() + len(counts)))


def unigram_perplexity(counts: torch.Tensor, targets: torch.Tensor) -> dict:
    """Add-one smoothed unigram perplexity of `targets` under `counts` (len(counts) = V)."""
    logp = unigram_log_probs(counts)
    nll = -logp[targets].sum().item()
    n = len(targets)
    return {"loss": nll / n, "ppl": math.exp(nll / n), "tokens": n}


def evaluate_pretrained(model_dir: str | Path, corpus_source=None) -> dict:
    """Load an exported model with the Auto classes and score it on the corpus's validation split.

    Returns the model's perplexity, the unigram baseline on the same tokens and, for bart, also
    the perplexity with the source reduced to `<s><mask></s>` (the decoder as an unconditional LM).
    """
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    from .corpus import load_corpus
    from .recipes import Recipe

    model_dir = Path(model_dir)
    recipe = Recipe(**json.loads((model_dir / "recipe.json").read_text())["recipe"])
    corpus = load_corpus(corpus_source)
    bpe = AutoTokenizer.from_pretrained(model_dir).backend_tokenizer
    auto = AutoModelForCausalLM if recipe.arch == "gpt2" else AutoModelForSeq2SeqLM
    model = auto.from_pretrained(model_dir)
    return score(model, recipe, build_blocks(recipe, bpe, corpus.train), build_blocks(recipe, bpe, corpus.valid))


def score(model, recipe, train_blocks, valid_blocks, limit: int | None = None) -> dict:
    """Model perplexity and unigram baseline on `valid_blocks` (first `limit` batches)."""
    batches = list(valid_blocks.eval_batches(recipe, limit))
    result = {"model": perplexity(model, batches, recipe.arch),
              "unigram": unigram_perplexity(unigram_counts(train_blocks, recipe.vocab_size),
                                            target_ids(batches, recipe.arch))}
    assert result["model"]["tokens"] == result["unigram"]["tokens"]
    if recipe.arch == "bart":
        result["model_mask_only_source"] = perplexity(
            model, valid_blocks.eval_batches(recipe, limit, source="mask_only"), recipe.arch)
        result["source_gain_nats"] = source_gain(result["model"], result["model_mask_only_source"])
    return result


# a BART whose denoising loss is within this of its loss without a source does not use its encoder
MIN_SOURCE_GAIN_NATS = 0.1


def source_gain(denoising: dict, mask_only: dict) -> float:
    """Nats/token the noised source saves over a source of one <mask>: ~0 means the encoder is unused
    (the decoder has become an unconditional LM; seen in a bart-mini run whose encoder collapsed to
    one output vector for every input). A BART that copies its source gains several nats."""
    return mask_only["loss"] - denoising["loss"]
