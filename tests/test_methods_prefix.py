"""Prefix- and infix-tuning properties on tiny models built from configs (decoder properties on
every family of TINY_DECODERS: GPT-2, and Llama / Qwen2 with grouped-query attention and RoPE)."""
import pytest
import torch

from repro import methods
from repro.methods import ConfigError, InfixConfig, InfixTuning, PrefixConfig, PrefixTuning
from repro.models import TINY_DECODERS, tiny_bart, tiny_decoder, tiny_gpt2

decoders = pytest.mark.parametrize("family", TINY_DECODERS)


@decoders
def test_real_word_init_is_exact(word_tokenizer, family):
    """A direct prefix initialized from the activations of tokens w gives the frozen LM's own
    next-token distribution on x as if it had read [w; x] (on Llama: the cached keys keep the
    rotation of positions 0..P-1 and x starts at P, as in [w; x])."""
    model = tiny_decoder(family, vocab_size=len(word_tokenizer), n_layer=3, initializer_range=0.3)
    tuner = PrefixTuning(model, PrefixConfig(reparameterize=False, init="real_words", init_text="table-to-text:"),
                         tokenizer=word_tokenizer).eval()
    w = word_tokenizer(" table-to-text:", add_special_tokens=False)["input_ids"]
    assert tuner.prefix_length == len(w) == 6
    x = torch.tensor([word_tokenizer(" name the pub is near the river", add_special_tokens=False)["input_ids"]])
    with torch.no_grad():
        ours = tuner.logits(x, torch.ones_like(x)).log_softmax(-1)
        full = model(input_ids=torch.cat([torch.tensor([w]), x], 1)).logits[:, len(w):].log_softmax(-1)
        alone = model(input_ids=x).logits.log_softmax(-1)
    # float32 rounding of two attention paths (log-probs of size ~8): 1.7e-6 (GPT-2), 1.0e-5 (Llama) measured
    assert (ours - full).abs().max() <= 3e-5
    assert (alone - full).abs().max() > 1e-2  # not vacuous: the words change the distribution


def test_real_word_init_fits_the_mlp(word_tokenizer):
    """Under the MLP, real-word init regresses the MLP onto the words' activations (reference
    lowdata_init_train3): the fitted prefix ends much closer to them than the random start."""
    model = tiny_gpt2(vocab_size=len(word_tokenizer), initializer_range=0.3)
    target = methods.init.real_word_activations(model, word_tokenizer, "summarize", ("decoder",))["decoder"]
    random = PrefixTuning(model, PrefixConfig(prefix_length=1, mid_dim=32)).eval()
    fitted = PrefixTuning(model, PrefixConfig(init="real_words", init_text="summarize", mid_dim=32,
                                              init_fit_steps=300, init_fit_lr=1e-2), tokenizer=word_tokenizer).eval()
    with torch.no_grad():
        before = (random.prefix()["decoder"] - target).pow(2).mean()
        after = (fitted.prefix()["decoder"] - target).pow(2).mean()
    assert fitted.prefix_length == 1
    assert after < 0.01 * before


def test_real_word_length_conflict_is_an_error(word_tokenizer):
    with pytest.raises(ConfigError, match="token count"):
        PrefixTuning(tiny_gpt2(vocab_size=len(word_tokenizer)),
                     PrefixConfig(prefix_length=3, init="real_words", init_text="table-to-text:"),
                     tokenizer=word_tokenizer)


def test_bart_real_word_init_covers_three_sets(word_tokenizer):
    model = tiny_bart(vocab_size=len(word_tokenizer))
    tuner = PrefixTuning(model, PrefixConfig(reparameterize=False, init="real_words", init_text="table-to-text:"),
                         tokenizer=word_tokenizer)
    assert tuner.prefix_length == 6
    enc = model.model.encoder
    ids = torch.tensor([word_tokenizer(" table-to-text:", add_special_tokens=False)["input_ids"]])
    with torch.no_grad():  # the first encoder layer's keys are k_proj of the embedded phrase
        h = enc.layernorm_embedding(enc.embed_tokens(ids) + enc.embed_positions(ids))
        k0 = enc.layers[0].self_attn.k_proj(h).view(1, 6, 2, 8).transpose(1, 2)[0]
        assert torch.allclose(tuner.prefix()["encoder"][0, 0], k0, atol=1e-6)


def infix_batch():
    ids = torch.tensor([[5, 6, 7, 63, 10, 11, 63, 63], [8, 9, 63, 12, 13, 14, 63, 63]])
    mask = torch.tensor([[1] * 7 + [0], [1] * 7 + [0]])
    labels = ids.clone()
    labels[0, :4] = -100
    labels[1, :3] = -100
    labels[mask == 0] = -100
    return ids, mask, labels


@decoders
def test_infix_changes_only_positions_after_it(family):
    tuner = InfixTuning(tiny_decoder(family, initializer_range=0.3), InfixConfig(infix_length=3, mid_dim=8)).eval()
    ids, mask, labels = infix_batch()
    with torch.no_grad():
        before = tuner.logits(ids, mask, labels)
        tuner.infix_embedding.add_(torch.randn_like(tuner.infix_embedding))  # (a constant shift would vanish in LayerNorm)
        after = tuner.logits(ids, mask, labels)
    change = (before - after).abs().amax(-1)
    for row, n_source in enumerate((3, 2)):  # x = 3 and 2 tokens; the separator follows the infix
        assert change[row, :n_source].max() == 0
        assert change[row, n_source:7].min() > 1e-4


@decoders
def test_infix_and_prefix_grads_reach_their_parameters(family):
    ids, mask, labels = infix_batch()
    for tuner in (InfixTuning(tiny_decoder(family), InfixConfig(infix_length=3, mid_dim=8)),
                  PrefixTuning(tiny_decoder(family), PrefixConfig(prefix_length=3, mid_dim=8))):
        tuner.train()
        tuner(ids, mask, labels).loss.backward()
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in tuner.trainable_parameters())
        assert all(p.grad is None for p in tuner.model.parameters())


def count_model(name):
    from transformers import (BartConfig, BartForConditionalGeneration, GPT2Config, GPT2LMHeadModel, LlamaConfig,
                              LlamaForCausalLM)

    with torch.device("meta"):  # full-size shapes, no memory
        if name == "gpt2-medium":
            return GPT2LMHeadModel(GPT2Config(n_layer=24, n_head=16, n_embd=1024))
        if name == "smollm2-135m":  # the shape `make setup` converts (models/smollm2-135m/config.json)
            return LlamaForCausalLM(LlamaConfig(vocab_size=49152, hidden_size=576, intermediate_size=1536,
                                                num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3,
                                                head_dim=64, tie_word_embeddings=True))
        return BartForConditionalGeneration(BartConfig(d_model=1024, encoder_layers=12, decoder_layers=12,
                                                       encoder_attention_heads=16, decoder_attention_heads=16))


def test_parameter_counts_follow_the_formulas():
    tuner = PrefixTuning(count_model("gpt2-medium"), PrefixConfig(prefix_length=5, mid_dim=512))
    assert tuner.num_inference_parameters() == 5 * 24 * 2 * 1024 == 245_760  # the paper's "250K" (0.1%)
    mlp = (1024 * 512 + 512) + (512 * 24 * 2 * 1024 + 24 * 2 * 1024)
    assert tuner.num_trainable_parameters() == 5 * 1024 + mlp
    bart = PrefixTuning(count_model("bart-large"), PrefixConfig(prefix_length=100, mid_dim=800))
    assert bart.num_inference_parameters() == 100 * 3 * 12 * 2 * 1024  # 73,728 per position
    direct = PrefixTuning(count_model("gpt2-medium"), PrefixConfig(prefix_length=5, reparameterize=False))
    assert direct.num_trainable_parameters() == direct.num_inference_parameters() == 245_760


def test_gqa_parameter_counts_follow_the_formulas():
    """SmolLM2-135M: 30 layers, 3 key/value heads of 64 (GQA; 9 query heads, width 576)."""
    smol = count_model("smollm2-135m")
    assert sum(p.numel() for p in smol.parameters()) == 134_515_008  # the converted model's count
    tuner = PrefixTuning(smol, PrefixConfig(prefix_length=5, mid_dim=512))
    assert tuner.num_inference_parameters() == 5 * 30 * 2 * 192 == 57_600
    # the prefix embedding has the model width (reference wte), the MLP emits key/value width
    assert tuner.num_trainable_parameters() == 5 * 576 + (576 * 512 + 512) + (512 * 30 * 2 * 192 + 30 * 2 * 192)
    infix = InfixTuning(smol, InfixConfig(infix_length=5, mid_dim=512))
    assert infix.num_inference_parameters() == 5 * 576 + 57_600  # infix embedding + folded offsets


@pytest.mark.parametrize("family", [*TINY_DECODERS, "bart"])
def test_folded_prefix_round_trip(tmp_path, family):
    """The saved artifact is only the P x layers x 2 x kv-width prefix, and reproduces the trained logits."""
    make = (lambda: tiny_bart(init_std=0.3)) if family == "bart" else (lambda: tiny_decoder(family, initializer_range=0.3))
    tuner = PrefixTuning(make(), PrefixConfig(prefix_length=3, mid_dim=8, prefix_dropout=0.2)).eval()
    methods.save(tuner, tmp_path / family)
    reloaded = methods.load(make(), tmp_path / family).eval()
    assert all(not hasattr(e, "mlp") for e in reloaded.encoders.values())
    assert reloaded.num_trainable_parameters() == tuner.num_inference_parameters()
    ids = torch.randint(3, 60, (2, 6))
    mask = torch.ones_like(ids)
    with torch.no_grad():
        assert torch.allclose(tuner.logits(ids, mask, ids), reloaded.logits(ids, mask, ids), atol=1e-6)


def test_checkpoint_shape_mismatch_is_named(tmp_path):
    methods.save(PrefixTuning(tiny_gpt2(), PrefixConfig(prefix_length=3, mid_dim=8)), tmp_path)
    with pytest.raises(ConfigError, match="does not fit"):
        methods.load(tiny_gpt2(n_layer=3), tmp_path)


def test_a_gpt2_prefix_does_not_load_into_a_llama(tmp_path):
    """Same layer count, other key/value width (GPT-2 2x8 heads vs GQA 2 kv heads of 8 under 4 query heads
    of a 32-wide model): refused before any decoding, naming the shapes and the fix."""
    methods.save(PrefixTuning(tiny_gpt2(n_embd=32), PrefixConfig(prefix_length=3, mid_dim=8)), tmp_path)
    with pytest.raises(ConfigError, match=r"does not fit this llama model: checkpoint has .*\(3, 2, 2, 32\).*"
                                          r"needs .*\(3, 2, 2, 16\).*base model it was trained on"):
        methods.load(tiny_decoder("llama"), tmp_path)


def test_frozen_gpt2_runs_without_dropout_bart_with():
    gpt2 = PrefixTuning(tiny_gpt2(), PrefixConfig(prefix_length=2, mid_dim=8)).train()
    assert not gpt2.model.training and gpt2.encoders.training
    bart = PrefixTuning(tiny_bart(), PrefixConfig(prefix_length=2, mid_dim=8)).train()
    assert bart.model.training  # the reference's Lightning module puts BART in train mode
    gpt2_dropout = PrefixTuning(tiny_gpt2(), PrefixConfig(prefix_length=2, mid_dim=8, base_model_dropout=True)).train()
    assert gpt2_dropout.model.training


def test_prefix_stays_float32_under_bfloat16_base():
    model = tiny_gpt2().to(torch.bfloat16)
    tuner = PrefixTuning(model, PrefixConfig(prefix_length=3, mid_dim=8)).train()
    ids, mask, labels = infix_batch()
    loss = tuner(ids, mask, labels).loss
    loss.backward()
    assert torch.isfinite(loss)
    assert all(p.dtype == torch.float32 and p.grad.dtype == torch.float32 for p in tuner.trainable_parameters())


def test_loss_reductions():
    """sequence_sum = total target NLL / batch size; token_mean = total / number of target tokens."""
    model = tiny_gpt2()
    ids, mask, labels = infix_batch()
    seq = PrefixTuning(model, PrefixConfig(prefix_length=3, mid_dim=8)).eval()
    tok = PrefixTuning(model, PrefixConfig(prefix_length=3, mid_dim=8, loss_reduction="token_mean")).eval()
    tok.load_state_dict(seq.state_dict())
    assert seq.loss_reduction == "sequence_sum"  # the reference GPT-2 prefix objective
    with torch.no_grad():
        logp = seq.logits(ids, mask, labels)[:, :-1].log_softmax(-1)
        target = labels[:, 1:]
        picked = logp.gather(-1, target.clamp(min=0).unsqueeze(-1)).squeeze(-1)[target != -100]
        total = -picked.sum()
        assert torch.allclose(seq(ids, mask, labels).loss, total / 2, atol=1e-5)
        assert torch.allclose(tok(ids, mask, labels).loss, total / (target != -100).sum(), atol=1e-6)


@pytest.mark.parametrize("options, message", [
    ({"prefix_length": 0}, "positive"),
    ({"prefix_length": -2}, "positive"),
    ({"init": "zeros"}, "random_normal"),
    ({"preseqlen": 5}, "valid options"),
    ({"attention_sets": ("encoder",)}, "decoder_only"),
    ({"loss_reduction": "mean"}, "sequence_sum"),
])
def test_bad_prefix_options_fail_before_training(options, message):
    with pytest.raises(ConfigError, match=message):
        methods.build(tiny_gpt2(), "prefix", options)


def test_unknown_method_and_model_type():
    with pytest.raises(ConfigError, match="choose one of"):
        methods.build(tiny_gpt2(), "prefixx", {})
    from transformers import BertConfig, BertLMHeadModel

    bert = BertLMHeadModel(BertConfig(vocab_size=32, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                      intermediate_size=32, is_decoder=True))
    with pytest.raises(ConfigError, match="unsupported model type 'bert'.*one entry in repro.families.FAMILIES"):
        methods.build(bert, "prefix", {})
    with pytest.raises(ConfigError, match="decoder-only"):
        methods.build(tiny_bart(), "infix", {})
