"""Infix-tuning ([x; INFIX; y]), the intrinsic-evaluation ablation of Li & Liang (2021, Table 5).

Decoder-only models, as the reference (GPT-2 there: `gpt2/train_control.py`,
`get_prompt_p5_infix`/`forward_infix`; any decoder family of `repro.families` here):

1. The frozen LM runs (with gradients) over ``[embed(x); E]`` where E (P x d) is a trainable
   infix embedding; x is left-padded so that its real tokens sit at positions 0..|x|-1 (the
   reference right-pads in training and not in decoding, a train/test position mismatch we avoid
   and document: implementation_notes §2).
2. An MLP-reparameterized offset (as the prefix: embedding -> Linear -> tanh -> Linear) is added
   to the keys/values at the P infix positions. So x keeps the frozen LM's activations and does
   not see the infix, and the infix activations depend on x.
3. The target ``[sep; y; eos]`` is decoded against that cache, positions continuing after
   |x| + P.

The batch contract is the common one (`repro.methods.base`); the split into x and
``[sep; y; eos]`` is recovered from the labels (the separator is the last unlabelled token).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from repro.methods.base import ConfigError, MethodConfig, Tuner, require_positive
from repro.families import kv_shapes
from repro.methods.prefix import PrefixEncoder


@dataclass
class InfixConfig(MethodConfig):
    infix_length: int = 10
    mid_dim: int = 512
    prefix_dropout: float = 0.0

    def __post_init__(self):
        super().__post_init__()
        require_positive("infix_length", self.infix_length)
        require_positive("mid_dim", self.mid_dim)


def _pad(rows: list[torch.Tensor], pad: int, left: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack 1-D id tensors into (ids, mask), padding on the left or the right."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long, device=rows[0].device)
    mask = torch.zeros_like(ids)
    for i, r in enumerate(rows):
        span = slice(width - len(r), width) if left else slice(0, len(r))
        ids[i, span] = r
        mask[i, span] = 1
    return ids, mask


class InfixTuning(Tuner):
    method = "infix"
    config_class = InfixConfig
    default_loss_reduction = {"decoder_only": "sequence_sum", "encoder_decoder": "sequence_sum"}

    def __init__(self, model, config: InfixConfig, tokenizer=None):
        super().__init__(model, config)
        if self.is_encoder_decoder:
            raise ConfigError("infix-tuning is defined for decoder-only models (GPT-2, Llama, ...), as in the reference code")
        embed = model.get_input_embeddings().weight
        with torch.device(embed.device):
            self.offsets = PrefixEncoder(config.infix_length, kv_shapes(model)["decoder"], embed.shape[1], True,
                                         config.mid_dim, config.prefix_dropout)
            self.infix_embedding = nn.Parameter(torch.randn(config.infix_length, embed.shape[1]))  # reference: wte2
        self.pad_id = model.config.pad_token_id if model.config.pad_token_id is not None else 0

    @property
    def infix_length(self) -> int:
        return self.config.infix_length

    def infix_cache(self, source_ids, source_mask):
        """Run the frozen LM over [x; E] and add the offsets at the infix positions.

        Returns (cache as a list of (k, v) per layer, mask over [x; infix], number of real x tokens per row)."""
        P, batch = self.infix_length, source_ids.shape[0]
        embeds = self.model.get_input_embeddings()(source_ids)
        infix = self.infix_embedding.to(embeds.dtype).unsqueeze(0).expand(batch, -1, -1)
        mask = torch.cat([source_mask, source_mask.new_ones(batch, P)], 1)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        out = self.model.base_model(inputs_embeds=torch.cat([embeds, infix], 1), attention_mask=mask,
                                    position_ids=positions, use_cache=True)
        offsets = self.offsets().to(embeds.dtype)  # (L, 2, H, P, hd)
        kv = []
        for layer, cached in enumerate(out.past_key_values.layers):
            k, v = cached.keys, cached.values
            kv.append((torch.cat([k[:, :, :-P], k[:, :, -P:] + offsets[layer, 0]], 2),
                       torch.cat([v[:, :, :-P], v[:, :, -P:] + offsets[layer, 1]], 2)))
        return kv, mask, out.last_hidden_state[:, :-P], source_mask.sum(1)

    def _split(self, input_ids, attention_mask, labels):
        """Per row: x (without the separator) and [sep; y; eos]."""
        sources, targets = [], []
        for ids, mask, lab in zip(input_ids, attention_mask, labels):
            n = int(mask.sum())
            labelled = (lab[:n] != -100).nonzero()
            if len(labelled) == 0 or int(labelled[0]) < 2:
                raise ConfigError("infix-tuning needs rows [x; sep; y; eos] with at least one source token and labels on y")
            start = int(labelled[0])  # first y token; the separator is at start-1
            sources.append(ids[:start - 1])
            targets.append(ids[start - 1:n])
        return sources, targets

    def hidden_states(self, input_ids, attention_mask, labels=None, decoder_input_ids=None, decoder_attention_mask=None):
        if labels is None:
            raise ConfigError("infix-tuning locates the source/target boundary from labels; pass labels")
        from transformers import DynamicCache

        sources, targets = self._split(input_ids, attention_mask, labels)
        src, src_mask = _pad(sources, self.pad_id, left=True)
        tgt, tgt_mask = _pad(targets, self.pad_id, left=False)
        kv, mask, src_hidden, n_src = self.infix_cache(src, src_mask)
        positions = (n_src + self.infix_length).unsqueeze(1) + torch.arange(tgt.shape[1], device=tgt.device)
        out = self.model.base_model(input_ids=tgt, attention_mask=torch.cat([mask, tgt_mask], 1),
                                    past_key_values=DynamicCache(kv), position_ids=positions, use_cache=False)
        # back to the layout of input_ids: x from the first pass, [sep; y; eos] from the second
        hidden = src_hidden.new_zeros(*input_ids.shape, src_hidden.shape[-1])
        for i, (s, t) in enumerate(zip(sources, targets)):
            hidden[i, :len(s)] = src_hidden[i, src.shape[1] - len(s):]
            hidden[i, len(s):len(s) + len(t)] = out.last_hidden_state[i, :len(t)]
        return hidden

    @torch.no_grad()
    def generate(self, input_ids, attention_mask, **generation_kwargs):
        """`input_ids`: left-padded prompts [x; sep]; returns the new tokens."""
        from transformers import DynamicCache

        if not bool(attention_mask[:, -1].all()):
            raise ConfigError("infix decoding expects left-padded prompts ending with the separator")
        rows = generation_kwargs.get("num_beams", 1)
        kv, mask, _, _ = self.infix_cache(input_ids[:, :-1], attention_mask[:, :-1])
        cache = DynamicCache([(k.repeat_interleave(rows, 0), v.repeat_interleave(rows, 0)) for k, v in kv])
        sep = input_ids[:, -1:]
        out = self.model.generate(input_ids=sep, attention_mask=torch.cat([mask, attention_mask[:, -1:]], 1),
                                  past_key_values=cache, **generation_kwargs)
        return out[:, 1:]

    def decoding_prefill(self, input_ids, attention_mask):
        """The infix cache over x, then the separator: the state `generate` starts from in `generate` above."""
        from transformers import DynamicCache

        from repro.methods.base import Prefill

        if not bool(attention_mask[:, -1].all()):
            raise ConfigError("infix decoding expects left-padded prompts ending with the separator")
        kv, mask, _, _ = self.infix_cache(input_ids[:, :-1], attention_mask[:, :-1])
        full = torch.cat([mask, attention_mask[:, -1:]], 1)
        position = full.long().sum(-1, keepdim=True) - 1
        out = self.model.base_model(input_ids=input_ids[:, -1:], attention_mask=full, past_key_values=DynamicCache(kv),
                                    position_ids=position, use_cache=True)
        return Prefill(out.past_key_values, full, out.last_hidden_state[:, -1], input_ids[:, -1:])

    def export_state_dict(self):
        return {"infix.embedding": self.infix_embedding.detach(), "infix.offsets": self.offsets.folded()}
