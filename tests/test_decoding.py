"""repro.decoding gives what `generate` gives (the reference), token for token, for every method and
family; and its transformers-3.2 length normalization finds the exhaustive best under that rule."""
import itertools

import pytest
import torch

from repro import decoding, methods
from repro.methods import ConfigError
from repro.models import TINY_DECODERS, tiny_bart, tiny_decoder, tiny_t5

DECODER_METHODS = [
    ("prefix", {"prefix_length": 3, "mid_dim": 8}),
    ("infix", {"infix_length": 3, "mid_dim": 8}),
    ("prompt", {"prompt_length": 3}),
    ("prompt", {"prompt_length": 3, "reparameterization": "lstm"}),
    ("adapter", {"bottleneck": 4}),
    ("lora", {"r": 2}),
    ("finetune", {}),
]
IDS = ["prefix", "infix", "prompt", "p-tuning", "adapter", "lora", "finetune"]
OPTION_SETS = {  # EOS on, so beams finish at different steps and inputs leave the batch
    "beam3": dict(num_beams=3, max_new_tokens=8),
    "beam4-ngram-badwords-min": dict(num_beams=4, max_new_tokens=7, no_repeat_ngram_size=2,
                                     bad_words_ids=[[7], [9, 10]], min_new_tokens=2, length_penalty=0.8),
    "greedy": dict(num_beams=1, max_new_tokens=8),
    "beam2-early": dict(num_beams=2, max_new_tokens=6, early_stopping=True),
}
EOS = 11


def likely_eos(tuner, ids, mask, pad):
    """A token the model often produces, taken as EOS so that hypotheses end at various steps."""
    free = tuner.generate(ids, mask, num_beams=3, max_new_tokens=8, do_sample=False, pad_token_id=pad,
                          eos_token_id=None)
    values, counts = free[:, 1:].unique(return_counts=True)
    return int(values[counts.argmax()])


def left_padded(pad):
    prompts = [[5, 9, 12, 40, 3], [7, 30, 3], [40, 41, 42, 43, 44, 3], [8, 3]]
    width = max(map(len, prompts))
    ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts])
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
    return ids, mask


def steer(tuner):
    """Move methods that start at the base model (adapter, LoRA) off it, so the test sees them."""
    if tuner.method in ("adapter", "lora"):
        with torch.no_grad():
            for p in tuner.trainable_parameters():
                p.add_(0.3 * torch.randn_like(p))
    return tuner.eval()


@pytest.mark.parametrize("family", TINY_DECODERS)
@pytest.mark.parametrize("method, options", DECODER_METHODS, ids=IDS)
@pytest.mark.parametrize("search", sorted(OPTION_SETS))
def test_decoder_search_equals_generate(family, method, options, search):
    torch.manual_seed(0)
    tuner = steer(methods.build(tiny_decoder(family, initializer_range=0.5), method, options))
    ids, mask = left_padded(63)
    eos = likely_eos(tuner, ids, mask, 63)
    kwargs = dict(OPTION_SETS[search], do_sample=False, pad_token_id=63, eos_token_id=eos)
    if "bad_words_ids" in kwargs:
        kwargs["bad_words_ids"] = [w for w in kwargs["bad_words_ids"] if eos not in w]
    reference = tuner.generate(ids, mask, **kwargs)
    ours = decoding.decode(tuner, ids, mask, **kwargs)
    assert torch.equal(ours, reference), f"{ours.tolist()} != {reference.tolist()}"
    assert (reference == eos).any()  # some hypothesis ended on EOS: the test saw finishing


@pytest.mark.parametrize("kind", ["bart-prefix", "bart-prompt", "bart-finetune", "t5-prompt"])
@pytest.mark.parametrize("search", ["beam3", "greedy", "beam4-ngram-badwords-min"])
def test_encoder_decoder_search_equals_generate(kind, search):
    torch.manual_seed(0)
    arch, method = kind.split("-")
    # (T5 at initializer_factor 5 is degenerate: two hypotheses tie to 1e-7 and float noise picks one)
    model = tiny_bart(init_std=0.3) if arch == "bart" else tiny_t5(initializer_factor=2.0)
    options = {"prefix": {"prefix_length": 3, "mid_dim": 8}, "prompt": {"prompt_length": 3}, "finetune": {}}[method]
    tuner = methods.build(model, method, options).eval()
    src = torch.tensor([[5, 9, 12, 40, 2], [7, 30, 2, 1, 1], [40, 41, 42, 2, 1]])
    mask = (src != 1).long() if arch == "bart" else torch.ones_like(src)
    eos = model.config.eos_token_id
    kwargs = dict(OPTION_SETS[search], do_sample=False, eos_token_id=eos, pad_token_id=model.config.pad_token_id)
    if arch == "bart":
        kwargs["forced_bos_token_id"] = None
    if search == "beam4-ngram-badwords-min":
        kwargs["bad_words_ids"] = [[7], [9, 10]]
    assert torch.equal(decoding.decode(tuner, src, mask, **kwargs), tuner.generate(src, mask, **kwargs))


def test_prompt_ensemble_search_equals_generate():
    from repro.methods.ensemble import PromptEnsemble

    torch.manual_seed(0)
    model = tiny_decoder("llama", initializer_range=0.5)
    ensemble = PromptEnsemble(model, torch.randn(3, 2, 32))
    ids, mask = left_padded(63)
    kwargs = dict(num_beams=2, max_new_tokens=5, do_sample=False, pad_token_id=63, eos_token_id=EOS)
    assert torch.equal(decoding.decode(ensemble, ids, mask, **kwargs), ensemble.generate(ids, mask, **kwargs))


def test_unsupported_options_are_refused_by_name():
    tuner = methods.build(tiny_decoder("gpt2"), "prompt", {"prompt_length": 2})
    ids, mask = left_padded(63)
    with pytest.raises(ConfigError, match=r"\['top_k'\].*decode engine: generate"):
        decoding.decode(tuner, ids, mask, num_beams=2, max_new_tokens=3, top_k=5)
    with pytest.raises(ConfigError, match="length_normalization"):
        decoding.decode(tuner, ids, mask, num_beams=2, max_new_tokens=3, length_normalization="prompt")


# ---------------------------------------------------------------------- exhaustive search, both rules
V, EOS_SMALL = 5, 4


def all_hypotheses(tuner, prompt, max_new):
    """Every continuation: ended by EOS at any step, or cut at max_new tokens; with its summed log-prob."""
    out = {}
    for n in range(1, max_new + 1):
        for body in itertools.product(range(V - 1), repeat=n - 1):
            for last in ([EOS_SMALL] if n < max_new else [EOS_SMALL, *range(V - 1)]):
                seq = list(body) + [last]
                ids = torch.tensor([prompt + seq])
                with torch.no_grad():
                    logp = tuner.logits(ids, torch.ones_like(ids)).log_softmax(-1)[0]
                out[tuple(seq)] = sum(logp[len(prompt) - 1 + i, t].item() for i, t in enumerate(seq))
    return out


def exhaustive_case():
    torch.manual_seed(0)
    return methods.build(tiny_decoder("gpt2", vocab_size=V, initializer_range=1.5), "prefix",
                         {"prefix_length": 2, "mid_dim": 8}).eval()


@pytest.mark.parametrize("rule", ["generated", "full_sequence"])
def test_beam_search_finds_the_exhaustive_best_under_each_length_rule(rule):
    """With as many beams as hypotheses nothing is pruned, so beam search returns the best hypothesis
    under its rule: score / L**lp, L = generated tokens with EOS (generated) or prompt + tokens before
    EOS (full_sequence, transformers 3.2). A length penalty of 2 makes the two rules pick differently."""
    torch.manual_seed(3)
    tuner = methods.build(tiny_decoder("gpt2", vocab_size=V, initializer_range=0.8), "prefix",
                          {"prefix_length": 2, "mid_dim": 8}).eval()
    prompt, max_new, lp = [1, 0, 2], 3, 2.0
    scores = all_hypotheses(tuner, prompt, max_new)

    def length(seq):
        ended = seq[-1] == EOS_SMALL
        return len(seq) if rule == "generated" else len(prompt) + len(seq) - (1 if ended else 0)

    best = max(scores, key=lambda q: scores[q] / length(q) ** lp)
    ids = torch.tensor([prompt])
    out = decoding.decode(tuner, ids, torch.ones_like(ids), num_beams=len(scores), max_new_tokens=max_new,
                          eos_token_id=EOS_SMALL, pad_token_id=EOS_SMALL, length_penalty=lp,
                          early_stopping=False, length_normalization=rule)
    got = out[0].tolist()
    got = tuple(got[:got.index(EOS_SMALL) + 1] if EOS_SMALL in got else got)
    assert got == best


def test_the_two_length_rules_disagree_on_that_case():
    """The exhaustive test above is not vacuous: its two best hypotheses differ."""
    tuner = exhaustive_case()
    prompt, lp = [1, 0, 2], 3.0
    scores = all_hypotheses(tuner, prompt, 3)
    gen = max(scores, key=lambda q: scores[q] / len(q) ** lp)
    full = max(scores, key=lambda q: scores[q] / (len(prompt) + len(q) - (q[-1] == EOS_SMALL)) ** lp)
    assert gen != full
