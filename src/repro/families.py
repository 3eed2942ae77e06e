"""What the methods need to know about each model family, in one table.

A family entry says how a model of that `config.model_type` is built (decoder-only or
encoder-decoder), where its transformer blocks and final norm are, which modules LoRA targets, and
the key/value shape of each attention set (what a prefix must match). Every method reads these
through `family_of(model)`; nothing else in the code branches on a model type. A new decoder
family whose blocks live at `model.model.layers` (the Llama layout, shared by Qwen2, Mistral, ...)
is one line in FAMILIES.

Key/value shapes come from the config: `num_key_value_heads` (grouped-query attention stores
fewer key/value heads than query heads) and `head_dim` where the config has them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from torch import nn

DECODER_ONLY, ENCODER_DECODER = "decoder_only", "encoder_decoder"


class UnsupportedModelError(ValueError):
    """A model family the methods do not know; the message lists the supported ones."""


@dataclass(frozen=True)
class KVShape:
    """One attention set: n_layers modules, each with n_kv_heads key/value heads of head_dim."""

    n_layers: int
    n_kv_heads: int
    head_dim: int

    @property
    def width(self) -> int:
        """Numbers per key (or value) vector of one layer: n_kv_heads * head_dim."""
        return self.n_kv_heads * self.head_dim


@dataclass(frozen=True)
class Family:
    name: str
    architecture: str  # DECODER_ONLY or ENCODER_DECODER
    # stacks of transformer blocks ([blocks] for a decoder, [encoder layers, decoder layers] for seq2seq)
    blocks: Callable[[nn.Module], list[list[nn.Module]]] | None
    final_norms: Callable[[nn.Module], list[nn.Module]]
    # attention set -> its key/value shape, read from the config
    kv_shapes: Callable[[object], dict[str, KVShape]] | None
    lora_targets: tuple[str, ...] = ("q_proj", "v_proj")
    lora_fan_in_fan_out: bool = False  # GPT-2's Conv1D stores weights transposed

    @property
    def steerable(self) -> bool:
        """Whether the layer-level methods (prefix, infix, adapters, FT-top-k) can reach inside it."""
        return self.blocks is not None and self.kv_shapes is not None


def _gpt2_kv(cfg) -> dict[str, KVShape]:
    return {"decoder": KVShape(cfg.n_layer, cfg.n_head, cfg.n_embd // cfg.n_head)}


def _llama_kv(cfg) -> dict[str, KVShape]:
    heads = cfg.num_attention_heads
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // heads
    kv_heads = getattr(cfg, "num_key_value_heads", None) or heads
    return {"decoder": KVShape(cfg.num_hidden_layers, kv_heads, head_dim)}


def _bart_kv(cfg) -> dict[str, KVShape]:
    enc = KVShape(cfg.encoder_layers, cfg.encoder_attention_heads, cfg.d_model // cfg.encoder_attention_heads)
    dec = KVShape(cfg.decoder_layers, cfg.decoder_attention_heads, cfg.d_model // cfg.decoder_attention_heads)
    return {"encoder": enc, "decoder": dec, "cross": dec}


GPT2 = Family("gpt2", DECODER_ONLY, blocks=lambda m: [list(m.transformer.h)],
              final_norms=lambda m: [m.transformer.ln_f], kv_shapes=_gpt2_kv,
              lora_targets=("c_attn",), lora_fan_in_fan_out=True)
# Llama layout: model.model.layers, model.model.norm, rotary positions, optional GQA
LLAMA_LIKE = Family("llama-like", DECODER_ONLY, blocks=lambda m: [list(m.model.layers)],
                    final_norms=lambda m: [m.model.norm], kv_shapes=_llama_kv)
BART = Family("bart", ENCODER_DECODER, blocks=lambda m: [list(m.model.encoder.layers), list(m.model.decoder.layers)],
              final_norms=lambda m: [], kv_shapes=_bart_kv)
# T5 (Lester et al.'s frozen model): prompt tuning and fine-tuning only
T5 = Family("t5", ENCODER_DECODER, blocks=None, final_norms=lambda m: [], kv_shapes=None, lora_targets=("q", "v"))

FAMILIES: dict[str, Family] = {"gpt2": GPT2, "llama": LLAMA_LIKE, "qwen2": LLAMA_LIKE, "mistral": LLAMA_LIKE,
                               "bart": BART, "t5": T5}


def family_for_type(model_type: str | None) -> Family:
    if model_type not in FAMILIES:
        raise UnsupportedModelError(
            f"unsupported model type {model_type!r}: the methods support {sorted(FAMILIES)}; a decoder with the "
            "Llama layout (model.model.layers) is one entry in repro.families.FAMILIES")
    return FAMILIES[model_type]


def family_of(model: nn.Module) -> Family:
    return family_for_type(getattr(getattr(model, "config", None), "model_type", None))


def kv_shapes(model: nn.Module) -> dict[str, KVShape]:
    family = family_of(model)
    if family.kv_shapes is None:
        raise UnsupportedModelError(f"{family.name} models take no key/value prefix here (prompt tuning and "
                                    "fine-tuning only)")
    return family.kv_shapes(model.config)
