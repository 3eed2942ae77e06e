"""Loading base language models, always through `transformers`.

Paper scale passes hub names (`gpt2-medium`, `facebook/bart-large`), mini scale passes local
paths (`models/gpt2-mini`), and tests build tiny random models from configs (`tiny_gpt2`,
`tiny_bart`): the rest of the code cannot tell them apart.
"""
from __future__ import annotations

import os

import torch
from torch import nn

# model_type -> architecture family the methods know how to steer
# T5 (Lester et al.'s frozen model, e.g. google/t5-large-lm-adapt) serves prompt tuning and fine-tuning
# only; the prefix-family methods and adapters reach into GPT-2 / BART modules (Tuner.model_types).
SUPPORTED_MODEL_TYPES = {"gpt2": "decoder_only", "bart": "encoder_decoder", "t5": "encoder_decoder"}


class ModelLoadError(RuntimeError):
    """A base model or tokenizer could not be loaded; the message says how to fix it."""


def architecture(model: nn.Module) -> str:
    """'decoder_only' or 'encoder_decoder'; raises for model types the methods do not support."""
    model_type = getattr(getattr(model, "config", None), "model_type", None)
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise ValueError(
            f"unsupported model type {model_type!r}: the methods support {sorted(SUPPORTED_MODEL_TYPES)} "
            "(GPT-2 family for decoder-only, BART and T5 families for encoder-decoder)"
        )
    return SUPPORTED_MODEL_TYPES[model_type]


def load_base_model(name_or_path: str, *, dtype: torch.dtype | None = None, pretrained: bool = True):
    """Load (model, tokenizer) with `from_pretrained`, in eval mode.

    A hub name needs internet (or a filled Hugging Face cache); a local directory works offline.
    `pretrained=False` builds the same architecture from its config with fresh random weights
    (seed torch first), without reading the weights file.
    """
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    try:
        config = AutoConfig.from_pretrained(name_or_path)
    except (OSError, ValueError) as err:
        offline = os.environ.get("HF_HUB_OFFLINE") == "1"
        raise ModelLoadError(
            f"cannot load model {name_or_path!r}: {err.__class__.__name__}: {str(err).splitlines()[0]}\n"
            f"A hub name such as 'gpt2-medium' needs internet access (or a Hugging Face cache that already "
            f"holds it){' and HF_HUB_OFFLINE=1 is set' if offline else ''}; otherwise pass a local directory "
            f"written by save_pretrained (e.g. models/gpt2-mini)."
        ) from err
    if config.model_type not in SUPPORTED_MODEL_TYPES:
        raise ModelLoadError(
            f"model {name_or_path!r} has type {config.model_type!r}; supported: {sorted(SUPPORTED_MODEL_TYPES)}"
        )
    auto = AutoModelForCausalLM if SUPPORTED_MODEL_TYPES[config.model_type] == "decoder_only" else AutoModelForSeq2SeqLM
    kwargs = {"dtype": dtype} if dtype is not None else {}
    model = auto.from_pretrained(name_or_path, **kwargs) if pretrained else auto.from_config(config, **kwargs)
    tokenizer = AutoTokenizer.from_pretrained(name_or_path)
    if tokenizer.pad_token is None:  # GPT-2 has none; pad positions are always masked out
        tokenizer.pad_token = tokenizer.eos_token
    model.eval()
    return model, tokenizer


def tiny_gpt2(*, vocab_size: int = 64, n_layer: int = 2, n_head: int = 2, n_embd: int = 16,
              n_positions: int = 128, seed: int = 0, **overrides):
    """A GPT2LMHeadModel with random weights, for tests and the smoke scale."""
    from transformers import GPT2Config, GPT2LMHeadModel

    special = dict(bos_token_id=vocab_size - 1, eos_token_id=vocab_size - 1, pad_token_id=vocab_size - 1)
    config = GPT2Config(vocab_size=vocab_size, n_layer=n_layer, n_head=n_head, n_embd=n_embd,
                        n_positions=n_positions, **{**special, **overrides})
    torch.manual_seed(seed)
    return GPT2LMHeadModel(config).eval()


def tiny_bart(*, vocab_size: int = 64, layers: int = 2, heads: int = 2, d_model: int = 16,
              max_position_embeddings: int = 128, seed: int = 0, **overrides):
    """A BartForConditionalGeneration with random weights, for tests and the smoke scale.

    Token ids: 0 = <s> (bos and decoder start), 1 = <pad>, 2 = </s> (eos), as in facebook/bart-*.
    """
    from transformers import BartConfig, BartForConditionalGeneration

    options = dict(bos_token_id=0, pad_token_id=1, eos_token_id=2, decoder_start_token_id=2,
                   forced_eos_token_id=None, encoder_ffn_dim=4 * d_model, decoder_ffn_dim=4 * d_model)
    config = BartConfig(vocab_size=vocab_size, d_model=d_model, encoder_layers=layers, decoder_layers=layers,
                        encoder_attention_heads=heads, decoder_attention_heads=heads,
                        max_position_embeddings=max_position_embeddings, **{**options, **overrides})
    torch.manual_seed(seed)
    return BartForConditionalGeneration(config).eval()


def tiny_t5(*, vocab_size: int = 64, layers: int = 2, heads: int = 2, d_model: int = 16, seed: int = 0, **overrides):
    """A T5ForConditionalGeneration (T5 v1.1 style: gated GELU, untied head) with random weights.

    Token ids: 0 = <pad> (also the decoder start), 1 = </s>, as in google/t5-*.
    """
    from transformers import T5Config, T5ForConditionalGeneration

    options = dict(pad_token_id=0, eos_token_id=1, decoder_start_token_id=0, feed_forward_proj="gated-gelu",
                   tie_word_embeddings=False, d_kv=d_model // heads, d_ff=2 * d_model)
    config = T5Config(vocab_size=vocab_size, d_model=d_model, num_layers=layers, num_decoder_layers=layers,
                      num_heads=heads, **{**options, **overrides})
    torch.manual_seed(seed)
    return T5ForConditionalGeneration(config).eval()


TINY_PREFIX = "tiny:"
TINY_SEED = 0  # smoke models: the run's seed varies the method and data order, not the base weights
SCRATCH_PREFIX = "scratch:"
TINY_POSITIONS = 512  # learned positions (and tokenizer max length) of the smoke models


def tiny_model_and_tokenizer(kind: str, texts: list[str], seed: int = 0, vocab_size: int = 320):
    """The smoke scale's model: a tiny random GPT-2 or BART (kind 'gpt2' / 'bart') with a byte-level
    BPE tokenizer trained on `texts` in about a second, so smoke runs need no download."""
    from repro.pretrain.tokenizer import make_tokenizer, train_bpe

    if kind not in ("gpt2", "bart"):
        raise ModelLoadError(f"unknown tiny model {TINY_PREFIX}{kind}; choose {TINY_PREFIX}gpt2 or {TINY_PREFIX}bart")
    tokenizer = make_tokenizer(train_bpe(texts, vocab_size, min_frequency=1), kind, model_max_length=TINY_POSITIONS)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    n = len(tokenizer)
    if kind == "gpt2":
        eos = tokenizer.eos_token_id
        model = tiny_gpt2(vocab_size=n, n_layer=2, n_head=2, n_embd=32, n_positions=TINY_POSITIONS, seed=seed,
                          bos_token_id=eos, eos_token_id=eos, pad_token_id=eos)
    else:
        model = tiny_bart(vocab_size=n, d_model=32, max_position_embeddings=TINY_POSITIONS, seed=seed,
                          bos_token_id=tokenizer.bos_token_id, pad_token_id=tokenizer.pad_token_id,
                          eos_token_id=tokenizer.eos_token_id, decoder_start_token_id=tokenizer.eos_token_id)
    return model, tokenizer


def load_model_for_run(model_name: str, train_texts: list[str], seed: int):
    """`tiny:gpt2` / `tiny:bart` (smoke), `scratch:<path>` (that model's architecture, random
    weights), or anything `from_pretrained` accepts (mini, paper)."""
    if model_name.startswith(TINY_PREFIX):  # the same frozen weights for every seed, as a real checkpoint
        return tiny_model_and_tokenizer(model_name[len(TINY_PREFIX):], train_texts, TINY_SEED)
    if model_name.startswith(SCRATCH_PREFIX):  # the "no pretraining" control (scratch:models/gpt2-mini)
        torch.manual_seed(seed)
        return load_base_model(model_name[len(SCRATCH_PREFIX):], pretrained=False)
    return load_base_model(model_name)
