"""Decoding through the model's standard `generate` with a method in place."""
import itertools

import pytest
import torch

from repro import methods
from repro.models import TINY_DECODERS, tiny_bart, tiny_decoder

V, EOS = 6, 5  # tiny vocabulary so that every candidate can be scored
decoders = pytest.mark.parametrize("family", TINY_DECODERS)


def decoder_prefix(family, vocab=V):
    return methods.build(tiny_decoder(family, vocab_size=vocab, n_layer=2, initializer_range=0.5), "prefix",
                         {"prefix_length": 3, "mid_dim": 8}).eval()


def sequence_logprob(tuner, prompt, continuation):
    ids = torch.tensor([prompt + continuation])
    with torch.no_grad():
        logp = tuner.logits(ids, torch.ones_like(ids)).log_softmax(-1)[0]
    return sum(logp[len(prompt) - 1 + i, t].item() for i, t in enumerate(continuation))


@decoders
def test_beam_search_finds_the_best_sequence_by_exhaustive_scoring(family):
    """With EOS suppressed every candidate has 3 new tokens, so the length-normalised score ranks
    them like the summed log-probability; 25 beams over 5 usable tokens make the search exact."""
    tuner = decoder_prefix(family)
    prompt = [1, 3, 2]
    ids = torch.tensor([prompt])
    out = tuner.generate(ids, torch.ones_like(ids), num_beams=25, max_new_tokens=3, do_sample=False,
                         suppress_tokens=[EOS], eos_token_id=EOS, pad_token_id=EOS, length_penalty=1.0)
    candidates = list(itertools.product([t for t in range(V) if t != EOS], repeat=3))
    scores = {c: sequence_logprob(tuner, prompt, list(c)) for c in candidates}
    best = max(scores, key=scores.get)
    assert tuple(out[0].tolist()) == best
    greedy = tuner.generate(ids, torch.ones_like(ids), num_beams=1, max_new_tokens=3, do_sample=False,
                            suppress_tokens=[EOS], eos_token_id=EOS, pad_token_id=EOS)
    assert scores[best] >= scores[tuple(greedy[0].tolist())]


def stepwise_argmax(tuner, prompt, steps, enc_dec=False):
    seq = [] if enc_dec else list(prompt)
    for _ in range(steps):
        if enc_dec:
            src = torch.tensor([prompt])
            labels = torch.tensor([seq + [0]])  # the last label is a placeholder; decoder inputs are shifted
            with torch.no_grad():
                logits = tuner.logits(src, torch.ones_like(src), labels)
            seq.append(int(logits[0, len(seq)].argmax()))
        else:
            ids = torch.tensor([seq + [0]])
            labels = ids.clone()
            labels[0, :len(prompt)] = -100  # infix reads the source/target boundary from the labels
            with torch.no_grad():
                logits = tuner.logits(ids, torch.ones_like(ids), labels)
            seq.append(int(logits[0, len(seq) - 1].argmax()))
    return seq if enc_dec else seq[len(prompt):]


@decoders
@pytest.mark.parametrize("method, options", [
    ("prefix", {"prefix_length": 3, "mid_dim": 8}),
    ("infix", {"infix_length": 3, "mid_dim": 8}),
    ("prompt", {"prompt_length": 3}),
    ("prompt", {"prompt_length": 3, "reparameterization": "lstm"}),  # P-tuning
    ("adapter", {"bottleneck": 4}),
    ("lora", {"r": 2}),
    ("finetune", {"top_layers": 1}),
], ids=["prefix", "infix", "prompt", "p-tuning", "adapter", "lora", "ft-top1"])
def test_decoder_greedy_equals_stepwise_argmax_and_batching_changes_nothing(method, options, family):
    tuner = methods.build(tiny_decoder(family, initializer_range=0.5), method, options).eval()
    if method in ("adapter", "lora"):  # both start at the base model: move them off it
        with torch.no_grad():
            for p in tuner.trainable_parameters():
                p.add_(0.3 * torch.randn_like(p))
    prompts = [[5, 9, 12, 63], [7, 30, 63], [40, 41, 42, 43, 63]]  # [x; sep], sep = 63
    width = max(map(len, prompts))
    ids = torch.tensor([[63] * (width - len(p)) + p for p in prompts])  # left padding
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
    kwargs = dict(max_new_tokens=4, do_sample=False, pad_token_id=63, eos_token_id=None)
    batched = tuner.generate(ids, mask, num_beams=1, **kwargs)
    for row, prompt in enumerate(prompts):
        assert batched[row].tolist() == stepwise_argmax(tuner, prompt, 4)
    beams = tuner.generate(ids, mask, num_beams=3, **kwargs)
    for row, prompt in enumerate(prompts):
        alone = torch.tensor([prompt])
        assert torch.equal(beams[row], tuner.generate(alone, torch.ones_like(alone), num_beams=3, **kwargs)[0])


@pytest.mark.parametrize("method, options", [
    ("prefix", {"prefix_length": 3, "mid_dim": 8}),
    ("prompt", {"prompt_length": 3}),
])
def test_bart_greedy_equals_stepwise_argmax_and_batching_changes_nothing(method, options):
    tuner = methods.build(tiny_bart(init_std=0.3), method, options).eval()
    sources = [[5, 9, 12, 40], [7, 30], [40, 41, 42]]
    width = max(map(len, sources))
    src = torch.tensor([s + [1] * (width - len(s)) for s in sources])  # right padding, pad = 1
    mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in sources])
    kwargs = dict(max_new_tokens=4, do_sample=False, eos_token_id=None, forced_bos_token_id=None)
    batched = tuner.generate(src, mask, num_beams=1, **kwargs)
    for row, source in enumerate(sources):
        assert batched[row, 1:].tolist() == stepwise_argmax(tuner, source, 4, enc_dec=True)
    beams = tuner.generate(src, mask, num_beams=3, **kwargs)
    for row, source in enumerate(sources):
        alone = torch.tensor([source])
        assert torch.equal(beams[row], tuner.generate(alone, torch.ones_like(alone), num_beams=3, **kwargs)[0])
