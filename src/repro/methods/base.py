"""What every method shares: the frozen base model, the batch contract, and the loss.

Batch contract (the same for every method, so the trainer never branches on the method):

* decoder-only (GPT-2): ``input_ids`` = ``[x; sep; y; eos]`` right-padded, ``attention_mask``,
  and ``labels`` aligned with ``input_ids`` (-100 over x, the separator and padding), as in the
  reference code (implementation_notes §7.2). The model predicts ``labels[t+1]`` from position t.
* encoder-decoder (BART): ``input_ids``/``attention_mask`` hold the source, ``labels`` the target
  (-100 on padding); ``decoder_input_ids`` default to the labels shifted right.

Two reference-code details live here because every method needs them:

* The language-model head is applied only at positions that have a label (`lm_loss`). The
  logits over the whole vocabulary at source positions are never used by the loss, and on
  table-to-text half of the tokens are source tokens, so this is the cheapest correct loss.
* ``loss_reduction``: ``sequence_sum`` (sum of token NLLs per sequence, mean over the batch: the
  reference GPT-2 prefix-tuning objective, ``--objective_mode 1``), ``token_mean`` (standard
  cross-entropy: the reference fine-tuning and BART objective) or ``batch_sum`` (sum of the token
  NLLs, and of the z-loss, over the whole batch: T5X with ``LOSS_NORMALIZING_FACTOR = None``, the
  prompt-tuning configs; `t5x/losses.py` normalizes by nothing).
"""
from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from repro.families import FAMILIES, UnsupportedModelError, family_of

LOSS_REDUCTIONS = ("sequence_sum", "token_mean", "batch_sum")


class ConfigError(ValueError):
    """A method option is unknown or out of range; raised before any training starts."""


@dataclass
class MethodConfig:
    """Options shared by all methods. Each method's config subclasses this."""

    # None = the reference code's choice for this method and architecture (see `Tuner`).
    loss_reduction: str | None = None
    # Whether the frozen base model's own dropout is active in train mode. None = reference default:
    # off for GPT-2 prefix / prompt methods (PT keeps the frozen GPT-2 in eval mode), on for the GPT-2
    # adapter baseline (plain HF Trainer: model.train()), on for BART (Lightning calls .train()).
    base_model_dropout: bool | None = None
    # T5X's auxiliary z-loss: z_loss * log(Z)^2 added per target token, Z the softmax normalizer
    # (Lester's prompt-tuning config: 1e-4; HF's T5 has none). 0 = off (Prefix-Tuning).
    z_loss: float = 0.0

    def __post_init__(self):
        if self.loss_reduction is not None and self.loss_reduction not in LOSS_REDUCTIONS:
            raise ConfigError(f"loss_reduction={self.loss_reduction!r}; choose one of {LOSS_REDUCTIONS} (or None)")
        if self.z_loss < 0:
            raise ConfigError(f"z_loss must be >= 0, got {self.z_loss}")

    @classmethod
    def from_dict(cls, options: dict[str, Any]):
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(f"unknown option(s) {unknown} for {cls.__name__}; valid options: {sorted(known)}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def require_positive(name: str, value: int):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")


def output_logits(model: nn.Module, hidden: torch.Tensor) -> torch.Tensor:
    """The model's own LM head (plus BART's `final_logits_bias`) applied to hidden states (original
    T5 first rescales them by d_model^-0.5, T5 v1.1 does not, as T5ForConditionalGeneration; in
    transformers 5 the switch is `scale_decoder_outputs`, before it `tie_word_embeddings`)."""
    cfg = model.config
    if cfg.model_type == "t5" and getattr(cfg, "scale_decoder_outputs", cfg.tie_word_embeddings):
        hidden = hidden * cfg.d_model ** -0.5
    logits = model.get_output_embeddings()(hidden)
    bias = getattr(model, "final_logits_bias", None)
    return logits + bias.to(logits.dtype) if bias is not None else logits


def lm_loss(model: nn.Module, hidden: torch.Tensor, labels: torch.Tensor, reduction: str, shift: bool,
            z_loss: float = 0.0) -> torch.Tensor:
    """Cross-entropy of `labels` under the LM head, computing logits only where a label exists.

    `shift`: decoder-only models predict labels[:, t+1] from hidden[:, t]; seq2seq decoders are
    already aligned. `reduction` is one of LOSS_REDUCTIONS. `z_loss`: T5X's z_loss * logsumexp² per
    target token, reduced with the cross-entropy.
    """
    if shift:
        hidden, labels = hidden[:, :-1], labels[:, 1:]
    target = labels != -100
    logits = output_logits(model, hidden[target]).float()
    nll = F.cross_entropy(logits, labels[target], reduction="none")
    if z_loss:
        nll = nll + z_loss * torch.logsumexp(logits, dim=-1).pow(2)
    if reduction == "token_mean":
        return nll.mean()
    if reduction == "sequence_sum":
        return nll.sum() / labels.shape[0]
    if reduction == "batch_sum":
        return nll.sum()
    raise ConfigError(f"loss_reduction={reduction!r}; choose one of {LOSS_REDUCTIONS}")


@dataclass
class Prefill:
    """A decoder's state after its prompt, for `repro.decoding`: the cache (one row per input), the
    attention mask over it, the last position's hidden state, and the prompt ids as `generate` would
    hold them (what its logits processors read)."""

    cache: Any
    mask: torch.Tensor
    last_hidden: torch.Tensor
    prompt: torch.Tensor


@dataclass
class TunerOutput:
    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None


class Tuner(nn.Module):
    """A base model steered by a method. Subclasses add parameters and override the hooks:

    * `_encode_inputs(input_ids, attention_mask, rows_per_input)` -> keyword arguments for the
      base model body and for `generate` (e.g. a key/value prefix as `past_key_values`);
    * `_injection()` -> a context in which the base model sees the method (default: nothing).
    """

    method: ClassVar[str] = "base"
    config_class: ClassVar[type[MethodConfig]] = MethodConfig
    trains_base_model: ClassVar[bool] = False
    # whether the method reaches into the base model's layers and attention (prefix, infix, adapters,
    # LoRA): it then needs a steerable family (repro.families); prompts and fine-tuning work on every family
    needs_layer_access: ClassVar[bool] = True
    # reference loss when config.loss_reduction is None: {architecture: reduction}
    default_loss_reduction: ClassVar[dict[str, str]] = {"decoder_only": "token_mean", "encoder_decoder": "token_mean"}
    # whether the reference trained this method with the frozen model's dropout on (config.base_model_dropout
    # None): the methods it trained with the plain HF Trainer (fine-tuning, adapters) put the whole model in
    # train mode; on BART, Lightning does so for every method
    reference_dropout: ClassVar[bool] = False

    def __init__(self, model: nn.Module, config: MethodConfig):
        super().__init__()
        if not isinstance(config, self.config_class):
            raise ConfigError(f"{type(self).__name__} takes a {self.config_class.__name__}, got {type(config).__name__}")
        try:
            self.family = family_of(model)
        except UnsupportedModelError as err:
            raise ConfigError(str(err)) from None
        self.arch = self.family.architecture
        if self.needs_layer_access and not self.family.steerable:
            supported = sorted(t for t, f in FAMILIES.items() if f.steerable)
            raise ConfigError(f"method {self.method!r} needs a model family whose layers it can reach "
                              f"({supported}), not {model.config.model_type!r}; prompt tuning and fine-tuning "
                              f"work on {model.config.model_type!r}")
        self.config = config
        self.model = model
        if not self.trains_base_model:
            model.requires_grad_(False)

    # ----------------------------------------------------------------- reference defaults
    @property
    def is_encoder_decoder(self) -> bool:
        return self.arch == "encoder_decoder"

    @property
    def loss_reduction(self) -> str:
        return self.config.loss_reduction or self.default_loss_reduction[self.arch]

    @property
    def base_model_dropout(self) -> bool:
        if self.config.base_model_dropout is not None:
            return self.config.base_model_dropout
        return self.trains_base_model or self.reference_dropout or self.is_encoder_decoder

    def train(self, mode: bool = True):
        super().train(mode)
        if mode and not self.base_model_dropout:
            self.model.eval()
        return self

    # ----------------------------------------------------------------- parameters
    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.parameters() if p.requires_grad]

    def num_trainable_parameters(self) -> int:
        return sum(p.numel() for p in self.trainable_parameters())

    def num_inference_parameters(self) -> int:
        """Parameters a user must store after training (for prefix methods: the folded prefix)."""
        return sum(t.numel() for t in self.export_state_dict().values())

    def export_state_dict(self) -> dict[str, torch.Tensor]:
        """The small artifact saved after training (trainable tensors; prefix methods fold their MLP)."""
        return {n: p.detach() for n, p in self.named_parameters() if p.requires_grad}

    # ----------------------------------------------------------------- hooks
    def _encode_inputs(self, input_ids, attention_mask, rows_per_input: int = 1) -> dict[str, Any]:
        return {"input_ids": input_ids, "attention_mask": attention_mask}

    def _injection(self):
        return contextlib.nullcontext()

    # ----------------------------------------------------------------- forward
    def _decoder_inputs(self, labels, decoder_input_ids):
        if decoder_input_ids is not None or labels is None:
            return decoder_input_ids
        from transformers.models.bart.modeling_bart import shift_tokens_right

        cfg = self.model.config
        return shift_tokens_right(labels, cfg.pad_token_id, cfg.decoder_start_token_id)

    def hidden_states(self, input_ids, attention_mask, labels=None, decoder_input_ids=None,
                      decoder_attention_mask=None) -> torch.Tensor:
        """Last hidden states aligned with `labels` (decoder positions for seq2seq)."""
        extra = {}
        if self.is_encoder_decoder:
            extra = {"decoder_input_ids": self._decoder_inputs(labels, decoder_input_ids),
                     "decoder_attention_mask": decoder_attention_mask}
        with self._injection():
            inputs = self._encode_inputs(input_ids, attention_mask)
            if self.model.base_model is self.model:  # T5: no body module without the LM head
                encoded = self.model.get_encoder()(**inputs).last_hidden_state
                return self.model.get_decoder()(
                    input_ids=extra["decoder_input_ids"], attention_mask=decoder_attention_mask,
                    encoder_hidden_states=encoded, encoder_attention_mask=inputs["attention_mask"],
                    use_cache=False).last_hidden_state
            out = self.model.base_model(**inputs, **extra, use_cache=False)
        return out.last_hidden_state

    def forward(self, input_ids, attention_mask, labels, decoder_input_ids=None, decoder_attention_mask=None) -> TunerOutput:
        hidden = self.hidden_states(input_ids, attention_mask, labels, decoder_input_ids, decoder_attention_mask)
        loss = lm_loss(self.model, hidden, labels, self.loss_reduction, shift=not self.is_encoder_decoder,
                       z_loss=self.config.z_loss)
        return TunerOutput(loss=loss)

    def logits(self, input_ids, attention_mask, labels=None, decoder_input_ids=None, decoder_attention_mask=None):
        """Full-vocabulary logits at every position (for tests and analysis, not for training)."""
        hidden = self.hidden_states(input_ids, attention_mask, labels, decoder_input_ids, decoder_attention_mask)
        return output_logits(self.model, hidden)

    # ----------------------------------------------------------------- decoding
    def decoding_rows(self, input_ids, attention_mask):
        """The rows a decoding pass runs (PromptEnsemble: every input once per prompt)."""
        return input_ids, attention_mask

    def decoding_prefill(self, input_ids, attention_mask) -> Prefill:
        """Decoder-only: the prompt ``[x; sep]`` (left-padded) through the steered model, once per input.
        Positions as `generate` numbers them: the attention mask's running count, minus one."""
        with self._injection():
            inputs = self._encode_inputs(input_ids, attention_mask)
            mask = inputs["attention_mask"]
            positions = (mask.long().cumsum(-1) - 1).masked_fill(mask == 0, 1)[:, -input_ids.shape[1]:]
            out = self.model.base_model(**inputs, position_ids=positions, use_cache=True)
        return Prefill(out.past_key_values, mask, out.last_hidden_state[:, -1], input_ids)

    @torch.no_grad()
    def generate(self, input_ids, attention_mask, **generation_kwargs) -> torch.Tensor:
        """Decode with the model's standard `generate`; every generation option must be passed explicitly.

        Decoder-only: `input_ids` is the left-padded prompt ``[x; sep]`` and only the new tokens are
        returned. Encoder-decoder: `input_ids` is the source and the decoder tokens are returned.
        """
        rows = generation_kwargs.get("num_beams", 1)
        with self._injection():
            inputs = self._encode_inputs(input_ids, attention_mask, rows_per_input=rows)
            out = self.model.generate(**inputs, **generation_kwargs)
        return out if self.is_encoder_decoder else out[:, input_ids.shape[1]:]
