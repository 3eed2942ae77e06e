"""Initializers for prefixes and prompts, as pure functions of (model, tokenizer, options).

* Prefix, random: `random_normal` is the reference code (PyTorch defaults: the prefix embedding
  is N(0, 1); the direct prefix is `torch.randn`); `random_uniform` is the paper's appendix
  ("uniform (0, 1)"). The two disagree; the config chooses (implementation_notes §4.2).
* Prefix, real words: the frozen LM's own keys/values on the tokens of a phrase
  (`real_word_activations`), so the prefix length equals the token count (reference
  `lowdata_init_train3`; the phrase is encoded with a leading space, i.e. add_prefix_space).
* Prompt (Lester §3.2): uniform in [-0.5, 0.5] (paper; the code draws [0, 0.5)), sampled
  vocabulary (rows of the 5,000 lowest token ids, i.e. the most frequent for a BPE/SentencePiece
  vocabulary ordered by merges/likelihood, without replacement), class labels (the mean of each
  label's sub-token embeddings; remaining rows from the sampled vocabulary).
"""
from __future__ import annotations

import torch

from repro.families import DECODER_ONLY, family_of

RANDOM_PREFIX_INITS = ("random_normal", "random_uniform")


def phrase_ids(tokenizer, text: str) -> list[int]:
    """Token ids of `text` with a leading space and no special tokens (reference: add_prefix_space=True)."""
    ids = tokenizer(" " + text.strip(), add_special_tokens=False)["input_ids"]
    if not ids:
        raise ValueError(f"init text {text!r} has no tokens")
    return ids


@torch.no_grad()
def real_word_activations(model, tokenizer, text: str, attention_sets) -> dict[str, torch.Tensor]:
    """Per attention set, the frozen model's keys/values on `text`: (n_layers, 2, heads, P, head_dim).

    Decoder-only (GPT-2, Llama, ...): the phrase alone at positions 0..P-1, no BOS, as the reference
    (a rotary model's cached keys carry the rotation of positions 0..P-1, as [w; x] would have them). BART (the reference has
    no real-word init for BART; this is our extension): the phrase is both the encoder input and
    the decoder input, and each attention module's keys/values are recorded.
    """
    device = next(model.parameters()).device
    ids = torch.tensor([phrase_ids(tokenizer, text)], device=device)
    was_training = model.training
    model.eval()
    try:
        if family_of(model).architecture == DECODER_ONLY:
            cache = model.base_model(input_ids=ids, use_cache=True).past_key_values
            kv = torch.stack([torch.stack([layer.keys[0], layer.values[0]]) for layer in cache.layers])
            return {"decoder": kv}
        from repro.methods import attention

        bart = model.model
        modules = {"encoder": [layer.self_attn for layer in bart.encoder.layers],
                   "decoder": [layer.self_attn for layer in bart.decoder.layers],
                   "cross": [layer.encoder_attn for layer in bart.decoder.layers]}
        slots = {name: attention.attach_slots(model, modules[name]) for name in attention_sets}
        for group in slots.values():
            for slot in group:
                slot.recorded = []
        bart(input_ids=ids, decoder_input_ids=ids, use_cache=False)
        return {name: torch.stack([torch.stack([s.recorded[0][0][0], s.recorded[0][1][0]]) for s in group])
                for name, group in slots.items()}
    finally:
        model.train(was_training)


def uniform_(tensor: torch.Tensor, low: float, high: float) -> torch.Tensor:
    with torch.no_grad():
        return tensor.uniform_(low, high)


def sampled_vocab_ids(n: int, vocab_size: int, population: int, exclude: set[int],
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """`n` token ids drawn from the first `population` ids (minus `exclude`, e.g. special tokens),
    without replacement, falling back to replacement when n > population (as prompt-tuning's
    `from_sample_of_embeddings`)."""
    candidates = torch.tensor([i for i in range(min(population, vocab_size)) if i not in exclude])
    if n <= len(candidates):
        return candidates[torch.randperm(len(candidates), generator=generator)[:n]]
    return candidates[torch.randint(len(candidates), (n,), generator=generator)]


def class_label_rows(embed_tokens, tokenizer, labels) -> torch.Tensor:
    """One row per label: the mean of the label's sub-token embeddings (Lester §3.2)."""
    rows = []
    device = embed_tokens.weight.device
    for label in labels:
        ids = phrase_ids(tokenizer, label)
        rows.append(embed_tokens(torch.tensor(ids, device=device)).mean(0))
    return torch.stack(rows).detach()
