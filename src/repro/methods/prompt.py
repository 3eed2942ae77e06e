"""Trainable virtual-token input embeddings: prompt tuning (Lester et al., 2021), the
embedding-only ablation EMB-n of Li & Liang (2021), and the P-tuning prompt encoder (Liu et al.).

Only P input vectors are trained; every layer above them is the frozen model's own computation.

* GPT-2: the P vectors come first, at positions 0..P-1, and x starts at position P. As in the
  reference `PrefixEmbTuning`, the vectors are run once through the frozen model and the
  resulting keys/values serve as a prefix; in a causal LM this equals concatenating them in front
  of x's embeddings (tested), and it lets decoding reuse the prefix path.
* BART (Lester's encoder-decoder setting): the P vectors are concatenated in front of the embedded
  encoder input, with P attended positions prepended to the mask; the decoder cross-attends to
  the prompt positions too (prompt-tuning `masks.py`).

`reparameterization`: ``none`` (Lester; the reference's `--parametrize_emb Emb`), ``mlp`` (the
reference's EMB-n default: embedding -> Linear(d, mid) -> tanh -> Linear(mid, d)), ``lstm``
(P-tuning: a 2-layer bi-LSTM with hidden d/2, then Linear-ReLU-Linear).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from repro.methods.base import ConfigError, MethodConfig, Tuner, require_positive
from repro.methods.init import class_label_rows, sampled_vocab_ids

REPARAMETERIZATIONS = ("none", "mlp", "lstm")
PROMPT_INITS = ("random_uniform", "random_normal", "sampled_vocab", "class_labels")


@dataclass
class PromptConfig(MethodConfig):
    prompt_length: int = 20
    reparameterization: str = "none"
    mid_dim: int = 512
    # random_uniform over init_range (Lester: [-0.5, 0.5]); random_normal: N(0, 1) (PyTorch/peft
    # default); sampled_vocab: embeddings of tokens among the `vocab_population` lowest ids;
    # class_labels: mean sub-token embedding of each of `class_labels`, the rest sampled vocab.
    init: str = "random_uniform"
    init_range: tuple[float, float] = (-0.5, 0.5)
    class_labels: tuple[str, ...] = ()
    vocab_population: int = 5000

    def __post_init__(self):
        super().__post_init__()
        require_positive("prompt_length", self.prompt_length)
        require_positive("mid_dim", self.mid_dim)
        if self.reparameterization not in REPARAMETERIZATIONS:
            raise ConfigError(f"reparameterization={self.reparameterization!r}; choose one of {REPARAMETERIZATIONS}")
        if self.init not in PROMPT_INITS:
            raise ConfigError(f"init={self.init!r}; choose one of {PROMPT_INITS}")
        if self.init == "class_labels" and not self.class_labels:
            raise ConfigError("init='class_labels' needs class_labels, e.g. ('yes', 'no')")


class PromptEncoder(nn.Module):
    """Produces the (P, d) prompt: a free parameter, or an embedding passed through an MLP or LSTM."""

    def __init__(self, length: int, d: int, reparameterization: str, mid_dim: int):
        super().__init__()
        self.length, self.kind = length, reparameterization
        self.embedding = nn.Parameter(torch.randn(length, d))
        if reparameterization == "mlp":
            self.head = nn.Sequential(nn.Linear(d, mid_dim), nn.Tanh(), nn.Linear(mid_dim, d))
        elif reparameterization == "lstm":
            if d % 2:
                raise ConfigError(f"the P-tuning LSTM needs an even model width, got {d}")
            self.lstm = nn.LSTM(d, d // 2, num_layers=2, bidirectional=True, batch_first=True)
            self.head = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, d))

    def forward(self) -> torch.Tensor:
        if self.kind == "none":
            return self.embedding
        x = self.embedding
        if self.kind == "lstm":
            x = self.lstm(x.unsqueeze(0))[0].squeeze(0)
        return self.head(x)


class PromptTuning(Tuner):
    method = "prompt"
    config_class = PromptConfig
    needs_layer_access = False
    # GPT-2 EMB-n runs through the reference's prefix trainer (--objective_mode 1: per-sequence sum);
    # Lester's T5 setting uses a token-level cross-entropy.
    default_loss_reduction = {"decoder_only": "sequence_sum", "encoder_decoder": "token_mean"}

    def __init__(self, model, config: PromptConfig, tokenizer=None):
        super().__init__(model, config)
        embed = model.get_input_embeddings()
        with torch.device(embed.weight.device):
            self.encoder = PromptEncoder(config.prompt_length, embed.weight.shape[1], config.reparameterization,
                                         config.mid_dim)
        self._initialize(tokenizer)

    @property
    def prompt_length(self) -> int:
        return self.config.prompt_length

    def _initialize(self, tokenizer):
        cfg, weight = self.config, self.encoder.embedding
        if cfg.init == "random_normal":
            return
        if cfg.init == "random_uniform":
            with torch.no_grad():
                weight.uniform_(*cfg.init_range)
            return
        if tokenizer is None:
            raise ConfigError(f"init={cfg.init!r} needs the tokenizer: PromptTuning(model, config, tokenizer=...)")
        embed = self.model.get_input_embeddings()  # BART's includes its embedding scale
        # more labels than positions: the first prompt_length labels, as google-research/prompt-tuning's
        # from_embedded_list (which skips the rest with a warning)
        labels = cfg.class_labels[:cfg.prompt_length]
        rows = class_label_rows(embed, tokenizer, labels) if cfg.init == "class_labels" else weight[:0]
        n_sampled = cfg.prompt_length - rows.shape[0]
        ids = sampled_vocab_ids(n_sampled, embed.weight.shape[0], cfg.vocab_population,
                                set(tokenizer.all_special_ids))
        rows = torch.cat([rows, embed(ids.to(weight.device)).detach()])
        with torch.no_grad():
            weight.copy_(rows)

    def prompt(self) -> torch.Tensor:
        """The current (P, d) virtual-token embeddings."""
        return self.encoder()

    def export_state_dict(self):
        return {"prompt": self.prompt().detach()}

    def load_exported(self, state):
        prompt = state.get("prompt")
        expected = tuple(self.encoder.embedding.shape)
        if prompt is None or tuple(prompt.shape) != expected or set(state) != {"prompt"}:
            raise ConfigError(f"prompt checkpoint does not fit: has {({k: tuple(v.shape) for k, v in state.items()})}, "
                              f"model needs {{'prompt': {expected}}}")
        if self.encoder.kind != "none":
            raise ConfigError("a folded prompt loads into reparameterization='none'")
        with torch.no_grad():
            self.encoder.embedding.copy_(prompt)

    def _encode_inputs(self, input_ids, attention_mask, rows_per_input: int = 1):
        prompt = self.prompt().to(self.model.dtype)
        batch, P = input_ids.shape[0], self.prompt_length
        mask = torch.cat([attention_mask.new_ones(batch, P), attention_mask], 1)
        if self.is_encoder_decoder:
            embeds = self.model.get_input_embeddings()(input_ids)
            return {"inputs_embeds": torch.cat([prompt.unsqueeze(0).expand(batch, -1, -1), embeds], 1),
                    "attention_mask": mask}
        from transformers import DynamicCache

        cache = self.model.base_model(inputs_embeds=prompt.unsqueeze(0), use_cache=True).past_key_values
        rows = batch * rows_per_input
        expanded = DynamicCache([(layer.keys.expand(rows, -1, -1, -1), layer.values.expand(rows, -1, -1, -1))
                                 for layer in cache.layers])
        return {"input_ids": input_ids, "attention_mask": mask, "past_key_values": expanded}
