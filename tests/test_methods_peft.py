"""Our prefix-tuning against peft's (GPT-2: as is; BART: decoder self-attention only, since peft's
BART prefix has no encoder or cross-attention prefix and shares prefixes between decoder layers,
implementation_notes §9.1/§11), and against hand-built references where peft differs from the paper.

Select with `pytest -k peft`.
"""
import pytest
import torch
from peft import PrefixTuningConfig, TaskType, get_peft_model

from repro.methods import PrefixConfig, PrefixTuning
from repro.models import tiny_bart, tiny_decoder, tiny_gpt2

P = 4


def gpt2_pair(seed=0):
    ours = PrefixTuning(tiny_gpt2(n_layer=3, seed=seed, initializer_range=0.2),
                        PrefixConfig(prefix_length=P, mid_dim=8)).eval()
    peft_model = get_peft_model(tiny_gpt2(n_layer=3, seed=seed, initializer_range=0.2),
                                PrefixTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=P,
                                                   prefix_projection=True, encoder_hidden_size=8)).eval()
    enc = peft_model.prompt_encoder["default"]
    mine = ours.encoders["decoder"]
    with torch.no_grad():  # the same prefix in both: copy our embedding and MLP into peft's
        enc.embedding.weight.copy_(mine.embedding.weight)
        for i in (0, 2):
            enc.transform[i].weight.copy_(mine.mlp[i].weight)
            enc.transform[i].bias.copy_(mine.mlp[i].bias)
    return ours, peft_model


def batch(pad_rows: bool):
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, 63, (3, 7), generator=g)
    mask = torch.ones_like(ids)
    if pad_rows:
        mask[1, 5:] = 0
        mask[2, 3:] = 0
    return ids, mask


def gqa_pair(family, seed=0):
    """Our direct prefix and peft's (prefix_projection=False) on the same tiny GQA decoder (4 query heads,
    2 key/value heads of 8), holding the same numbers: peft stores (P, layers*2*kv_width), ordered as ours."""
    ours = PrefixTuning(tiny_decoder(family, n_layer=3, seed=seed, initializer_range=0.2),
                        PrefixConfig(prefix_length=P, reparameterize=False)).eval()
    peft_model = get_peft_model(tiny_decoder(family, n_layer=3, seed=seed, initializer_range=0.2),
                                PrefixTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=P,
                                                   prefix_projection=False)).eval()
    enc = peft_model.prompt_encoder["default"]
    assert tuple(enc.embedding.weight.shape) == (P, 3 * 2 * 2 * 8)  # GQA: key/value width 16, not the model's 32
    with torch.no_grad():
        enc.embedding.weight.copy_(ours.encoders["decoder"].prefix)
    return ours, peft_model


def peft_pair(family, seed=0):
    """GPT-2: our MLP prefix and peft's (the same MLP); Llama / Qwen2 (GQA): the same direct prefix."""
    return gpt2_pair(seed) if family == "gpt2" else gqa_pair(family, seed)


@pytest.mark.parametrize("family", ["gpt2", "llama", "qwen2"])
@pytest.mark.parametrize("pad_rows", [False, True], ids=["no_padding", "right_padding"])
def test_peft_prefix_logits_match(pad_rows, family):
    ours, peft_model = peft_pair(family)
    ids, mask = batch(pad_rows)
    with torch.no_grad():
        theirs = peft_model(input_ids=ids, attention_mask=mask).logits
        mine = ours.logits(ids, mask)
    real = mask.bool()
    assert (theirs - mine)[real].abs().max() <= 1e-5
    # the comparison is not vacuous: the prefix changes the logits
    assert (ours.model(input_ids=ids, attention_mask=mask).logits - mine)[real].abs().max() > 1e-3


@pytest.mark.parametrize("family", ["gpt2", "llama", "qwen2"])
def test_peft_prefix_beam_generation_matches_with_left_padding(family):
    ours, peft_model = peft_pair(family, seed=0 if family == "gpt2" else 1)
    ids = torch.tensor([[5, 9, 12, 40], [63, 7, 30, 2]])
    mask = torch.tensor([[1, 1, 1, 1], [0, 1, 1, 1]])
    kwargs = dict(num_beams=3, max_new_tokens=6, do_sample=False, pad_token_id=63)
    with torch.no_grad():
        theirs = peft_model.generate(input_ids=ids, attention_mask=mask, **kwargs)[:, ids.shape[1]:]
    assert torch.equal(ours.generate(ids, mask, **kwargs), theirs)


def test_peft_gqa_mlp_prefix_has_peft_layout():
    """Our MLP prefix emits peft's flat layout, so its output, put in peft's table, gives the same logits."""
    ours = PrefixTuning(tiny_decoder("llama", n_layer=3, initializer_range=0.2), PrefixConfig(prefix_length=P, mid_dim=8)).eval()
    peft_model = get_peft_model(tiny_decoder("llama", n_layer=3, initializer_range=0.2),
                                PrefixTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=P)).eval()
    with torch.no_grad():
        peft_model.prompt_encoder["default"].embedding.weight.copy_(ours.encoders["decoder"].flat())
    ids, mask = batch(True)
    with torch.no_grad():
        diff = (peft_model(input_ids=ids, attention_mask=mask).logits - ours.logits(ids, mask))[mask.bool()]
    assert diff.abs().max() <= 1e-5


def unshift_decoder_positions(model, n_prefix):
    """peft passes its BART prefix through the cache, which shifts decoder positions by P; Li & Liang
    (and we) do not shift them. Undo the shift on the peft side (reference/environment.md §3)."""
    positions = model.get_base_model().model.decoder.embed_positions
    original = positions.forward
    positions.forward = lambda ids, past_key_values_length=0, position_ids=None: original(
        ids, past_key_values_length - n_prefix, None if position_ids is None else position_ids - n_prefix)


def test_peft_bart_decoder_self_attention_prefix_matches():
    peft_model = get_peft_model(tiny_bart(layers=2, seed=3, init_std=0.2),
                                PrefixTuningConfig(task_type=TaskType.SEQ_2_SEQ_LM, num_virtual_tokens=P)).eval()
    unshift_decoder_positions(peft_model, P)
    ours = PrefixTuning(tiny_bart(layers=2, seed=3, init_std=0.2),
                        PrefixConfig(prefix_length=P, reparameterize=False, attention_sets=("decoder",))).eval()
    with torch.no_grad():  # feed peft's actual per-layer tensors into our direct prefix
        cache = peft_model.get_prompt(batch_size=1)
        layers = cache.self_attention_cache.layers
        kv = torch.stack([torch.stack([layer.keys[0], layer.values[0]]) for layer in layers])
        ours.encoders["decoder"].prefix.copy_(ours.encoders["decoder"].to_flat(kv))
    src = torch.randint(3, 60, (2, 6), generator=torch.Generator().manual_seed(2))
    src_mask = torch.ones_like(src)
    src_mask[1, 4:] = 0
    labels = torch.randint(3, 60, (2, 5), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        theirs = peft_model(input_ids=src, attention_mask=src_mask, labels=labels).logits
        mine = ours.logits(src, src_mask, labels)
    assert (theirs - mine).abs().max() <= 1e-5
    assert (ours.model(input_ids=src, attention_mask=src_mask, labels=labels).logits - mine).abs().max() > 1e-3


def manual_bart_logits(model, src, src_mask, dec_in, enc_prefix, self_prefix, cross_prefix):
    """BART forward written out by hand (eager attention), concatenating [prefix; k] and [prefix; v]
    into every attention as Li & Liang's fork does. Prefixes: (L, 2, H, P, hd)."""
    cfg, bart = model.config, model.model
    H = cfg.encoder_attention_heads

    def attend(attn, x, kv_input, prefix, key_mask, causal):
        B, T, d = x.shape
        split = lambda t: t.view(B, -1, H, d // H).transpose(1, 2)
        q, k, v = split(attn.q_proj(x)) * attn.scaling, split(attn.k_proj(kv_input)), split(attn.v_proj(kv_input))
        k = torch.cat([prefix[0].expand(B, -1, -1, -1), k], 2)
        v = torch.cat([prefix[1].expand(B, -1, -1, -1), v], 2)
        n_prefix, S = prefix.shape[2], kv_input.shape[1]
        allowed = torch.cat([torch.ones(B, n_prefix, dtype=torch.bool), key_mask.bool()], 1)[:, None, None, :]
        allowed = allowed.expand(B, 1, T, n_prefix + S)
        if causal:
            allowed = allowed & torch.cat([torch.ones(T, n_prefix, dtype=torch.bool),
                                           torch.ones(T, S, dtype=torch.bool).tril()], 1)
        scores = (q @ k.transpose(-1, -2)).masked_fill(~allowed, float("-inf"))
        out = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, T, d)
        return attn.out_proj(out)

    def embed(stack, ids):
        x = stack.embed_tokens(ids) + stack.embed_positions(ids)
        return stack.layernorm_embedding(x)

    h = embed(bart.encoder, src)
    for layer, prefix in zip(bart.encoder.layers, enc_prefix):
        h = layer.self_attn_layer_norm(h + attend(layer.self_attn, h, h, prefix, src_mask, False))
        h = layer.final_layer_norm(h + layer.fc2(layer.activation_fn(layer.fc1(h))))
    enc = h
    h = embed(bart.decoder, dec_in)
    for layer, sp, cp in zip(bart.decoder.layers, self_prefix, cross_prefix):
        h = layer.self_attn_layer_norm(h + attend(layer.self_attn, h, h, sp, torch.ones_like(dec_in), True))
        h = layer.encoder_attn_layer_norm(h + attend(layer.encoder_attn, h, enc, cp, src_mask, False))
        h = layer.final_layer_norm(h + layer.fc2(layer.activation_fn(layer.fc1(h))))
    return model.lm_head(h) + model.final_logits_bias


def test_peft_free_bart_all_three_prefixes_match_hand_built_reference():
    """Not comparable with peft (it has no encoder or cross prefix): a hand-written BART instead."""
    ours = PrefixTuning(tiny_bart(layers=2, seed=5, init_std=0.2), PrefixConfig(prefix_length=P, mid_dim=8)).eval()
    src = torch.randint(3, 60, (2, 6), generator=torch.Generator().manual_seed(6))
    src_mask = torch.ones_like(src)
    src_mask[0, 5:] = 0
    labels = torch.randint(3, 60, (2, 5), generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        prefix = ours.prefix()
        dec_in = ours._decoder_inputs(labels, None)
        reference = manual_bart_logits(ours.model, src, src_mask, dec_in, prefix["encoder"], prefix["decoder"],
                                       prefix["cross"])
        mine = ours.logits(src, src_mask, labels)
        plain = ours.model(input_ids=src, attention_mask=src_mask, decoder_input_ids=dec_in).logits
    assert (reference - mine).abs().max() <= 1e-5
    for name in ("encoder", "cross"):  # each set matters on its own
        only = PrefixTuning(tiny_bart(layers=2, seed=5, init_std=0.2),
                            PrefixConfig(prefix_length=P, mid_dim=8, attention_sets=(name,))).eval()
        with torch.no_grad():
            assert (only.logits(src, src_mask, labels) - plain).abs().max() > 1e-3
