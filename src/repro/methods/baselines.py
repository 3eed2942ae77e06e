"""The baselines of Li & Liang's Table 2: full fine-tuning, FT-top2, adapters, and LoRA (peft).

* `FineTune`: every weight trains (`top_layers=None`), or only the top `top_layers` transformer
  blocks of each stack plus the final layer norm (FT-top2: `top_layers=2`; the tied embedding /
  LM head stays frozen), or those plus the token embedding (`train_embeddings=True`; GPT-2's LM head
  is tied to it): what the reference's `--top_layers 2` unfreezes (`transformer.ln_f`,
  `transformer.wte`, `transformer.h.22`, `transformer.h.23`: gpt2/run_language_modeling.py).
  Dropout of the model is on, as with the reference's plain HF Trainer.
* `Adapter`: a bottleneck MLP with a residual connection after every transformer block
  (Lin et al., 2020, the adapter variant Li & Liang compare against:
  ``h + W_up(relu(W_down(LayerNorm(h))))``), its width chosen to meet a parameter budget given
  as a fraction of the base model (the paper's 0.1% and 3%). No maintained library implements
  this for transformers 5 (adapter-hub `adapters` pins transformers 4.x), hence our own ~30 lines.
  Defaults as the reference (`modeling_gpt2_adapter.py`, adapter_design 1, trained with the plain
  HF Trainer): both projections N(0, initializer_range = 0.02) with zero biases (`init="normal"`:
  GPT-2's `_init_weights`, which its `from_pretrained` applies to the new modules), and the frozen
  model's dropout on. `init="zero_up"` zero-initialises the up projection (training starts at the
  base model); `base_model_dropout=False` turns the dropout off.
* `LoRA`: peft's LoRA injected into the base model (`peft.inject_adapter_in_model`).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from repro.methods.base import ConfigError, MethodConfig, Tuner, require_positive


@dataclass
class FineTuneConfig(MethodConfig):
    top_layers: int | None = None  # None = all weights (FT-full); 2 = FT-top2
    # with top_layers: also train the token embedding (tied to the LM head in GPT-2), as the reference's
    # --top_layers 2 (it unfreezes transformer.wte); False: the top blocks and the final norm only
    train_embeddings: bool = False

    def __post_init__(self):
        super().__post_init__()
        if self.top_layers is not None:
            require_positive("top_layers", self.top_layers)
        elif self.train_embeddings:
            raise ConfigError("train_embeddings goes with top_layers (FT-top-k); top_layers=None trains every weight")


class FineTune(Tuner):
    method = "finetune"
    config_class = FineTuneConfig
    trains_base_model = True
    needs_layer_access = False  # FT-full works on every family; FT-top-k checks below

    def __init__(self, model, config: FineTuneConfig, tokenizer=None):
        super().__init__(model, config)
        if config.top_layers is None:
            return
        if self.family.blocks is None:
            raise ConfigError(f"top_layers needs the transformer blocks of the model, which repro.families does "
                              f"not list for {model.config.model_type!r}; use top_layers=None (FT-full)")
        model.requires_grad_(False)
        for stack in self.family.blocks(model):
            if config.top_layers > len(stack):
                raise ConfigError(f"top_layers={config.top_layers} but the model has {len(stack)} layers per stack")
            for block in stack[-config.top_layers:]:
                block.requires_grad_(True)
        for norm in self.family.final_norms(model):
            norm.requires_grad_(True)
        if config.train_embeddings:
            model.get_input_embeddings().requires_grad_(True)


ADAPTER_INITS = ("normal", "zero_up")


class BottleneckAdapter(nn.Module):
    """h + up(relu(down(LayerNorm(h)))). `init`: "normal" = both projections N(0, std), zero biases (the
    reference: GPT-2's `_init_weights`); "zero_up" = `up` zero, so training starts at the base model
    (`down` keeps PyTorch's default init)."""

    def __init__(self, d: int, bottleneck: int, init: str = "normal", std: float = 0.02):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.down = nn.Linear(d, bottleneck)
        self.up = nn.Linear(bottleneck, d)
        if init == "normal":
            for linear in (self.down, self.up):
                nn.init.normal_(linear.weight, mean=0.0, std=std)
                nn.init.zeros_(linear.bias)
        else:
            nn.init.zeros_(self.up.weight)
            nn.init.zeros_(self.up.bias)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return hidden + self.up(torch.relu(self.down(self.norm(hidden))))

    @staticmethod
    def size(d: int, bottleneck: int) -> int:
        return 2 * d + (d * bottleneck + bottleneck) + (bottleneck * d + d)


@dataclass
class AdapterConfig(MethodConfig):
    budget: float = 0.001  # fraction of the base model's parameters (paper: 0.001 and 0.03)
    bottleneck: int | None = None  # overrides the budget when set
    # "normal": N(0, the model's initializer_range: 0.02 for GPT-2), zero biases (the reference); "zero_up"
    init: str = "normal"

    def __post_init__(self):
        super().__post_init__()
        if self.init not in ADAPTER_INITS:
            raise ConfigError(f"init={self.init!r}; choose one of {ADAPTER_INITS}")
        if not 0 < self.budget < 1:
            raise ConfigError(f"budget is a fraction of the base model's parameters in (0, 1), got {self.budget}")
        if self.bottleneck is not None:
            require_positive("bottleneck", self.bottleneck)


def bottleneck_for_budget(n_base: int, d: int, n_adapters: int, budget: float) -> int:
    """Largest bottleneck whose adapters stay within `budget` x n_base parameters (at least 1)."""
    per_adapter = budget * n_base / n_adapters
    return max(1, int((per_adapter - 3 * d) // (2 * d + 1)))


class Adapter(Tuner):
    method = "adapter"
    config_class = AdapterConfig
    reference_dropout = True  # the reference trains adapters with the plain HF Trainer: model.train()

    def __init__(self, model, config: AdapterConfig, tokenizer=None):
        super().__init__(model, config)
        blocks = [block for stack in self.family.blocks(model) for block in stack]
        d = model.get_input_embeddings().weight.shape[1]
        n_base = sum(p.numel() for p in model.parameters())
        self.bottleneck = config.bottleneck or bottleneck_for_budget(n_base, d, len(blocks), config.budget)
        with torch.device(model.get_input_embeddings().weight.device):
            std = getattr(model.config, "initializer_range", 0.02)
            self.adapters = nn.ModuleList(BottleneckAdapter(d, self.bottleneck, config.init, std) for _ in blocks)
        for block, adapter in zip(blocks, self.adapters):
            # a plain (unregistered) reference from the block to its adapter, read by a module-level
            # hook: a deepcopy of the tuner then copies block and adapter together (a hook closing
            # over the adapter would keep pointing at the original's, on the original's device)
            block.__dict__[_ADAPTER] = adapter
        self._hooks = [block.register_forward_hook(_apply_adapter) for block in blocks]


_ADAPTER = "_repro_adapter"


def _apply_adapter(module, args, output):
    adapter = module.__dict__[_ADAPTER]
    if isinstance(output, tuple):
        return (adapter(output[0]).to(output[0].dtype), *output[1:])
    return adapter(output).to(output.dtype)


@dataclass
class LoRAConfig(MethodConfig):
    r: int = 8
    alpha: int = 16
    dropout: float = 0.0
    target_modules: tuple[str, ...] | None = None  # None: the family's (c_attn for GPT-2, q_proj/v_proj else)

    def __post_init__(self):
        super().__post_init__()
        require_positive("r", self.r)


class LoRA(Tuner):
    method = "lora"
    config_class = LoRAConfig

    def __init__(self, model, config: LoRAConfig, tokenizer=None):
        super().__init__(model, config)
        from peft import LoraConfig, inject_adapter_in_model

        targets = config.target_modules or self.family.lora_targets
        lora = LoraConfig(r=config.r, lora_alpha=config.alpha, lora_dropout=config.dropout,
                          target_modules=list(targets), fan_in_fan_out=self.family.lora_fan_in_fan_out)
        inject_adapter_in_model(lora, model)
        for name, param in model.named_parameters():
            param.requires_grad_("lora_" in name)
