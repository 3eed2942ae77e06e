"""Prompt ensembling (Lester et al. 2021 §6, Table 3): K trained prompts over ONE frozen model.

Every input is paired with each of the K prompts and the K x B rows go through the frozen model
in one batched forward pass (one `generate` call), instead of K separate models or passes: the
point of the paper's "efficient prompt ensembling". Row ``b * K + k`` is input ``b`` with prompt
``k``. The K predictions of an input are combined by majority vote (`majority_vote`).

    prompts = stack_prompts(model, [run_dir / "method" for run_dir in member_runs])
    ensemble = PromptEnsemble(model, prompts)
    ids = ensemble.generate(input_ids, attention_mask, num_beams=1, max_new_tokens=5)  # (B*K, L)

Inference only: the prompts are trained one by one as ordinary prompt-tuning runs.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import ClassVar

import torch

from repro.methods.base import ConfigError, MethodConfig, Tuner


class PromptEnsemble(Tuner):
    method = "prompt_ensemble"
    config_class = MethodConfig
    needs_layer_access: ClassVar[bool] = False

    def __init__(self, model, prompts: torch.Tensor):
        super().__init__(model, MethodConfig())
        if prompts.dim() != 3 or prompts.shape[-1] != model.get_input_embeddings().weight.shape[1]:
            raise ConfigError(f"prompts must be (K, P, d_model), got {tuple(prompts.shape)}")
        self.register_buffer("prompts", prompts.detach().clone())

    @property
    def size(self) -> int:
        return self.prompts.shape[0]

    def expand(self, input_ids, attention_mask):
        """Each input repeated K times, consecutively (row b*K + k = input b with prompt k)."""
        return input_ids.repeat_interleave(self.size, 0), attention_mask.repeat_interleave(self.size, 0)

    def _encode_inputs(self, input_ids, attention_mask, rows_per_input: int = 1):
        """`input_ids` already expanded (B*K rows); prompt k goes with every row r where r % K == k."""
        rows, P = input_ids.shape[0], self.prompts.shape[1]
        if rows % self.size:
            raise ValueError(f"{rows} rows are not a multiple of the ensemble size {self.size}: call expand() first")
        prompts = self.prompts.to(self.model.dtype)
        mask = torch.cat([attention_mask.new_ones(rows, P), attention_mask], 1)
        if self.is_encoder_decoder:
            per_row = prompts[torch.arange(rows, device=prompts.device) % self.size]
            embeds = self.model.get_input_embeddings()(input_ids)
            return {"inputs_embeds": torch.cat([per_row, embeds], 1), "attention_mask": mask}
        from transformers import DynamicCache

        cache = self.model.base_model(inputs_embeds=prompts, use_cache=True).past_key_values  # K rows
        # generate repeats each row rows_per_input times (beams): row q belongs to prompt (q // beams) % K
        index = torch.arange(rows * rows_per_input, device=prompts.device) // rows_per_input % self.size
        expanded = DynamicCache([(layer.keys[index], layer.values[index]) for layer in cache.layers])
        return {"input_ids": input_ids, "attention_mask": mask, "past_key_values": expanded}

    def decoding_rows(self, input_ids, attention_mask):
        return self.expand(input_ids, attention_mask)

    @torch.no_grad()
    def generate(self, input_ids, attention_mask, **generation_kwargs) -> torch.Tensor:
        """(B*K, L): every input decoded with every prompt, in one batched `generate`."""
        ids, mask = self.expand(input_ids, attention_mask)
        return super().generate(ids, mask, **generation_kwargs)

    def export_state_dict(self):
        return {"prompts": self.prompts}


def stack_prompts(model, method_dirs: list[str | Path]) -> torch.Tensor:
    """(K, P, d): the trained prompts saved by prompt-tuning runs (`repro.methods.save`)."""
    from repro import methods

    prompts = []
    for directory in method_dirs:
        tuner = methods.load(model, directory)
        if tuner.method != "prompt":
            raise ConfigError(f"{directory} holds a {tuner.method!r} method, not a prompt")
        prompts.append(tuner.prompt().detach())
    shapes = {tuple(p.shape) for p in prompts}
    if len(shapes) != 1:
        raise ConfigError(f"ensemble members have different prompt shapes {sorted(shapes)}")
    return torch.stack(prompts)


def majority_vote(predictions: list[list[str]]) -> list[str]:
    """One label per input from K predictions each (predictions[k][b]); a tie goes to the tied
    label predicted by the lowest-numbered prompt (deterministic; the paper does not say)."""
    if not predictions or len({len(p) for p in predictions}) != 1:
        raise ValueError("majority_vote needs K lists of predictions of equal length")
    voted = []
    for column in zip(*predictions):
        counts = Counter(column)
        top = max(counts.values())
        voted.append(next(label for label in column if counts[label] == top))
    return voted
