"""Prefix-tuning (Li & Liang, 2021): trainable key/value activations at every attention layer.

A decoder (GPT-2, Llama, Qwen2, ...) gets one prefix (its self-attention); BART gets three independent ones, as in the
reference code's `seq2seq/prefixTuning.py`: encoder self-attention, decoder self-attention and
decoder cross-attention (`attention_sets` can select a subset, e.g. for the comparison with
peft, whose BART prefix only reaches decoder self-attention).

Parameterization (paper §4.3 and reference `gpt2/train_control.py`): per attention set, a
prefix embedding (P x d) -> Linear(d, mid) -> tanh -> Linear(mid, n_layers*2*w), read as
``[k_0, v_0, k_1, v_1, ...]`` per layer, with dropout on the result (`prefix_dropout`, 0 in the
reference launchers). d is the model width; w = kv_heads x head_dim is the key/value width (w = d
for GPT-2 and BART; SmolLM2's grouped-query attention has w = 3 x 64 = 192 < d = 576, the layout
peft uses). `reparameterize=False` is the direct variant (a free P x n_layers*2*w tensor). After
training only the folded prefix is kept (`export_state_dict`), P x n_layers x 2 x w per set
(SmolLM2, P=5: 5 x 30 x 2 x 192 = 57,600 numbers), and `load` rebuilds a direct prefix from it.

Injection: a decoder receives the prefix as a `DynamicCache` with an attention mask of length
P+T, so its input positions start at P (as in the reference fork and peft; a rotary model never
rotates the cached prefix keys). BART receives it inside
attention (`repro.methods.attention`) so that its learned positions are not shifted (as in the
reference fork). The prefix parameters stay float32 whatever the base model's dtype; they are
cast when injected.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
from torch import nn

from repro.families import KVShape, kv_shapes
from repro.methods import attention
from repro.methods.base import ConfigError, MethodConfig, Tuner, require_positive
from repro.methods.init import RANDOM_PREFIX_INITS, real_word_activations

ATTENTION_SETS = {"decoder_only": ("decoder",), "encoder_decoder": ("encoder", "decoder", "cross")}
DEFAULT_PREFIX_LENGTH = 10  # reference code default (--preseqlen 10)


@dataclass
class PrefixConfig(MethodConfig):
    # None: 10 for random init, the token count of `init_text` for real-word init (as the reference).
    prefix_length: int | None = None
    reparameterize: bool = True
    mid_dim: int = 512  # paper footnote: 512 for table-to-text, 800 for summarization
    prefix_dropout: float = 0.0
    # random_normal: reference code (embedding N(0,1), PyTorch default Linear init; direct: randn)
    # random_uniform: paper appendix ("uniform (0,1)"), range = init_range
    # real_words: activations of the frozen LM on `init_text` (MLP fitted to them by regression
    #             when reparameterized, copied when direct), as reference lowdata_init_train3
    init: str = "random_normal"
    init_range: tuple[float, float] = (0.0, 1.0)
    init_text: str | None = None
    init_fit_steps: int = 500  # reference: 500 Adam steps, lr 1e-4, MSE, MLP only
    init_fit_lr: float = 1e-4
    attention_sets: tuple[str, ...] | None = None  # None: all sets of the architecture

    def __post_init__(self):
        super().__post_init__()
        if self.prefix_length is not None:
            require_positive("prefix_length", self.prefix_length)
        require_positive("mid_dim", self.mid_dim)
        if not 0.0 <= self.prefix_dropout < 1.0:
            raise ConfigError(f"prefix_dropout must be in [0, 1), got {self.prefix_dropout}")
        choices = (*RANDOM_PREFIX_INITS, "real_words")
        if self.init not in choices:
            raise ConfigError(f"init={self.init!r}; choose one of {choices}")
        if self.init == "real_words" and not self.init_text:
            raise ConfigError("init='real_words' needs init_text, e.g. 'table-to-text:' or 'summarize'")
        if len(self.init_range) != 2 or self.init_range[0] >= self.init_range[1]:
            raise ConfigError(f"init_range must be (low, high) with low < high, got {self.init_range}")


class PrefixEncoder(nn.Module):
    """The prefix of one attention set: MLP-reparameterized or direct; returns (L, 2, H_kv, P, hd).

    `embed_dim` is the width of the prefix embedding that feeds the MLP: the model width, as the
    reference's `wte` (n_embd). The output holds a key and a value of `shape.width` numbers per layer
    and position (n_kv_heads * head_dim: fewer than the model width under grouped-query attention)."""

    def __init__(self, length: int, shape: KVShape, embed_dim: int, reparameterize: bool, mid_dim: int, dropout: float):
        super().__init__()
        self.length, self.n_layers, self.n_heads, self.head_dim = length, shape.n_layers, shape.n_kv_heads, shape.head_dim
        out = shape.n_layers * 2 * shape.width
        if reparameterize:
            self.embedding = nn.Embedding(length, embed_dim)  # reference: wte; input width = model width
            self.mlp = nn.Sequential(nn.Linear(embed_dim, mid_dim), nn.Tanh(), nn.Linear(mid_dim, out))
        else:
            self.prefix = nn.Parameter(torch.randn(length, out))
        self.dropout = nn.Dropout(dropout)

    @property
    def reparameterized(self) -> bool:
        return hasattr(self, "mlp")

    @property
    def folded_shape(self) -> tuple[int, int, int, int]:
        """(P, n_layers, 2, n_kv_heads * head_dim): what `folded` returns and a checkpoint stores."""
        return self.length, self.n_layers, 2, self.n_heads * self.head_dim

    def flat(self) -> torch.Tensor:
        """(P, n_layers*2*kv_width), before dropout."""
        return self.mlp(self.embedding.weight) if self.reparameterized else self.prefix

    def forward(self) -> torch.Tensor:
        L, H, P, hd = self.n_layers, self.n_heads, self.length, self.head_dim
        x = self.dropout(self.flat()).view(P, 2 * L, H, hd)
        return x.permute(1, 2, 0, 3).reshape(L, 2, H, P, hd)

    def folded(self) -> torch.Tensor:
        """The trained prefix without MLP and dropout: (P, n_layers, 2, kv_width)."""
        return self.flat().detach().reshape(self.folded_shape)

    @staticmethod
    def to_flat(kv: torch.Tensor) -> torch.Tensor:
        """Inverse of forward's reshaping: (L, 2, H, P, hd) -> (P, L*2*H*hd)."""
        L, _, H, P, hd = kv.shape
        return kv.reshape(2 * L, H, P, hd).permute(2, 0, 1, 3).reshape(P, 2 * L * H * hd)


def prefix_cache(kv: torch.Tensor, rows: int):
    """A `DynamicCache` holding a (L, 2, H_kv, P, hd) prefix for `rows` sequences (a view, not a copy).

    The keys enter the cache as they are: a rotary model (Llama) never rotates cached keys again, so
    the prefix has no position, and the inputs that follow start at position P (cache length)."""
    from transformers import DynamicCache

    return DynamicCache([(layer[0].unsqueeze(0).expand(rows, -1, -1, -1),
                          layer[1].unsqueeze(0).expand(rows, -1, -1, -1)) for layer in kv])


class PrefixTuning(Tuner):
    method = "prefix"
    config_class = PrefixConfig
    # reference: GPT-2 prefix = per-sequence sum (objective_mode 1); BART = token mean
    default_loss_reduction = {"decoder_only": "sequence_sum", "encoder_decoder": "token_mean"}

    def __init__(self, model, config: PrefixConfig, tokenizer=None):
        super().__init__(model, config)
        valid_sets = ATTENTION_SETS[self.arch]
        self.attention_sets = tuple(config.attention_sets or valid_sets)
        bad = [s for s in self.attention_sets if s not in valid_sets]
        if bad or not self.attention_sets:
            raise ConfigError(f"attention_sets={config.attention_sets}; {self.arch} models have {valid_sets}")
        targets = None
        if config.init == "real_words":
            if tokenizer is None:
                raise ConfigError("init='real_words' needs the tokenizer: PrefixTuning(model, config, tokenizer=...)")
            targets = real_word_activations(model, tokenizer, config.init_text, self.attention_sets)
        self.prefix_length = self._resolve_length(config, targets)
        device = next(model.parameters()).device
        shapes, width = kv_shapes(model), model.get_input_embeddings().weight.shape[1]
        with torch.device(device):
            self.encoders = nn.ModuleDict({
                s: PrefixEncoder(self.prefix_length, shapes[s], width, config.reparameterize,
                                 config.mid_dim, config.prefix_dropout)
                for s in self.attention_sets})
        self._initialize(targets)
        self._slots = self._attach_slots() if self.is_encoder_decoder else {}

    @staticmethod
    def _resolve_length(config, targets) -> int:
        if targets is None:
            return config.prefix_length or DEFAULT_PREFIX_LENGTH
        n_tokens = next(iter(targets.values())).shape[3]
        if config.prefix_length not in (None, n_tokens):
            raise ConfigError(f"prefix_length={config.prefix_length} but init_text {config.init_text!r} has "
                              f"{n_tokens} tokens; real-word init sets the prefix length to the token count "
                              f"(leave prefix_length unset)")
        return n_tokens

    def _initialize(self, targets):
        cfg = self.config
        for name, encoder in self.encoders.items():
            if targets is not None:
                target = PrefixEncoder.to_flat(targets[name].float())
                if encoder.reparameterized:
                    fit_mlp_to(encoder, target, cfg.init_fit_steps, cfg.init_fit_lr)
                else:
                    with torch.no_grad():
                        encoder.prefix.copy_(target)
            elif cfg.init == "random_uniform":
                weight = encoder.embedding.weight if encoder.reparameterized else encoder.prefix
                with torch.no_grad():
                    weight.uniform_(*cfg.init_range)
            # random_normal: PyTorch defaults (embedding N(0,1), Kaiming-uniform Linear; direct: randn)

    def _attach_slots(self) -> dict[str, list[attention.PrefixSlot]]:
        encoder, decoder = self.model.model.encoder, self.model.model.decoder
        modules = {"encoder": [layer.self_attn for layer in encoder.layers],
                   "decoder": [layer.self_attn for layer in decoder.layers],
                   "cross": [layer.encoder_attn for layer in decoder.layers]}
        return {s: attention.attach_slots(self.model, modules[s]) for s in self.attention_sets}

    # ------------------------------------------------------------------ prefix values
    def prefix(self) -> dict[str, torch.Tensor]:
        """Current prefix per attention set, (n_layers, 2, kv_heads, P, head_dim), with dropout in train mode."""
        return {name: encoder() for name, encoder in self.encoders.items()}

    def export_state_dict(self) -> dict[str, torch.Tensor]:
        return {f"prefix.{name}": encoder.folded() for name, encoder in self.encoders.items()}

    def load_exported(self, state: dict[str, torch.Tensor]):
        """Load a folded prefix (from `export_state_dict`) into a direct (un-reparameterized) prefix."""
        expected = {f"prefix.{n}": e.folded_shape for n, e in self.encoders.items()}
        got = {k: tuple(v.shape) for k, v in state.items()}
        if got != expected:
            raise ConfigError(f"prefix checkpoint does not fit this {self.model.config.model_type} model: checkpoint has "
                              f"{got} (P, layers, 2, kv heads x head dim), this model needs {expected}; load it into "
                              "the base model it was trained on (its run's config.json names it)")
        for name, encoder in self.encoders.items():
            if encoder.reparameterized:
                raise ConfigError("a folded prefix loads into a direct prefix: build with reparameterize=False")
            with torch.no_grad():
                encoder.prefix.copy_(state[f"prefix.{name}"].reshape(encoder.length, -1))

    # ------------------------------------------------------------------ injection
    def _encode_inputs(self, input_ids, attention_mask, rows_per_input: int = 1):
        if self.is_encoder_decoder:  # the prefix enters inside attention (see _injection)
            return {"input_ids": input_ids, "attention_mask": attention_mask}
        kv = self.prefix()["decoder"].to(self.model.dtype)
        cache = prefix_cache(kv, input_ids.shape[0] * rows_per_input)
        ones = attention_mask.new_ones(attention_mask.shape[0], self.prefix_length)
        # the mask must cover P+T: a length-T mask is silently accepted and gives wrong logits
        return {"input_ids": input_ids, "attention_mask": torch.cat([ones, attention_mask], 1),
                "past_key_values": cache}

    @contextlib.contextmanager
    def _injection(self):
        if not self.is_encoder_decoder:
            yield
            return
        prefix = self.prefix()
        try:
            for name, slots in self._slots.items():
                for layer, slot in enumerate(slots):
                    slot.kv = (prefix[name][layer, 0].unsqueeze(0), prefix[name][layer, 1].unsqueeze(0))
            yield
        finally:
            for slots in self._slots.values():
                for slot in slots:
                    slot.kv = None


def fit_mlp_to(encoder: PrefixEncoder, target: torch.Tensor, steps: int, lr: float) -> list[float]:
    """Reference real-word init under the MLP: Adam on the MLP only (the embedding stays random),
    minimizing the MSE between the reparameterized prefix and the target activations."""
    optimizer = torch.optim.Adam(encoder.mlp.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = nn.functional.mse_loss(encoder.flat(), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    encoder.embedding.weight.grad = None
    return losses
