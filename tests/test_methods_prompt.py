"""Embedding-only prompts (Lester prompt tuning, EMB-n, P-tuning encoder)."""
import pytest
import torch
from transformers.models.bart.modeling_bart import shift_tokens_right

from repro import methods
from repro.methods import ConfigError, PromptConfig, PromptTuning
from repro.models import TINY_DECODERS, tiny_bart, tiny_decoder, tiny_gpt2, tiny_t5


@pytest.mark.parametrize("family", TINY_DECODERS)
@pytest.mark.parametrize("reparameterization", ["none", "mlp", "lstm"])
def test_decoder_prompt_equals_feeding_the_vectors_as_input_embeddings(reparameterization, family):
    model = tiny_decoder(family, initializer_range=0.3)
    tuner = PromptTuning(model, PromptConfig(prompt_length=4, mid_dim=8, reparameterization=reparameterization)).eval()
    ids = torch.randint(0, 63, (3, 6), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)
    mask[1, 4:] = 0
    with torch.no_grad():
        prompt = tuner.prompt()
        embeds = torch.cat([prompt.expand(3, -1, -1), model.get_input_embeddings()(ids)], 1)
        full_mask = torch.cat([torch.ones(3, 4, dtype=torch.long), mask], 1)
        reference = model(inputs_embeds=embeds, attention_mask=full_mask).logits[:, 4:]
        ours = tuner.logits(ids, mask)
    assert (reference - ours)[mask.bool()].abs().max() <= 1e-5
    assert (model(input_ids=ids, attention_mask=mask).logits - ours)[mask.bool()].abs().max() > 1e-3


def test_bart_prompt_goes_in_front_of_the_encoder_input():
    model = tiny_bart(init_std=0.3)
    tuner = PromptTuning(model, PromptConfig(prompt_length=4)).eval()
    src = torch.randint(3, 60, (2, 6), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(src)
    mask[0, 4:] = 0
    labels = torch.randint(3, 60, (2, 5), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        embeds = torch.cat([tuner.prompt().expand(2, -1, -1), model.get_input_embeddings()(src)], 1)
        reference = model(inputs_embeds=embeds, attention_mask=torch.cat([torch.ones(2, 4, dtype=torch.long), mask], 1),
                          decoder_input_ids=shift_tokens_right(labels, 1, 2)).logits
        assert (reference - tuner.logits(src, mask, labels)).abs().max() <= 1e-5


@pytest.mark.parametrize("tied", [False, True])  # T5 v1.1 / LM-adapted (untied head) and original T5
def test_t5_prompt_matches_t5s_own_forward_loss_and_generate(tied):
    """Lester et al.'s setting: the prompt in front of T5's encoder input; loss and logits equal
    T5ForConditionalGeneration's own on the same input embeddings; only the prompt trains."""
    model = tiny_t5(tie_word_embeddings=tied, initializer_factor=3.0)
    tuner = PromptTuning(model, PromptConfig(prompt_length=3, init="random_uniform")).eval()
    src = torch.randint(2, 60, (2, 7), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(src)
    mask[1, 5:] = 0
    labels = torch.randint(2, 60, (2, 4), generator=torch.Generator().manual_seed(2))
    embeds = torch.cat([tuner.prompt().expand(2, -1, -1), model.get_input_embeddings()(src)], 1)
    full_mask = torch.cat([torch.ones(2, 3, dtype=torch.long), mask], 1)
    with torch.no_grad():
        reference = model(inputs_embeds=embeds, attention_mask=full_mask, labels=labels)
        assert (reference.logits - tuner.logits(src, mask, labels)).abs().max() <= 1e-5
    loss = tuner(src, mask, labels).loss
    assert loss.item() == pytest.approx(reference.loss.item(), rel=1e-5)  # T5 uses a token mean
    loss.backward()
    assert [n for n, p in tuner.named_parameters() if p.grad is not None] == ["encoder.embedding"]
    out = tuner.generate(src, mask, num_beams=2, max_new_tokens=5, do_sample=False)
    assert out.shape[0] == 2 and out.shape[1] <= 6 and (out[:, 0] == 0).all()  # starts with the decoder start


def test_methods_that_reach_into_layers_refuse_t5():
    for method in ("prefix", "infix", "adapter", "lora"):
        with pytest.raises(ConfigError, match="needs a model family whose layers it can reach.*not 't5'"):
            methods.build(tiny_t5(), method, {})
    with pytest.raises(ConfigError, match="top_layers needs the transformer blocks"):
        methods.build(tiny_t5(), "finetune", {"top_layers": 2})
    assert methods.build(tiny_t5(), "finetune", {}).num_trainable_parameters() > 0  # FT-full: any family


def test_prompt_initializers(word_tokenizer):
    model = tiny_bart(vocab_size=len(word_tokenizer))
    uniform = PromptTuning(model, PromptConfig(prompt_length=50)).encoder.embedding
    assert -0.5 <= uniform.min() < -0.4 and 0.4 < uniform.max() <= 0.5  # Lester: U[-0.5, 0.5]
    embed = model.get_input_embeddings()
    labels = PromptTuning(model, PromptConfig(prompt_length=5, init="class_labels", class_labels=("cheap", "coffee shop")),
                          tokenizer=word_tokenizer).encoder.embedding
    ids = lambda text: torch.tensor(word_tokenizer(" " + text, add_special_tokens=False)["input_ids"])
    with torch.no_grad():
        assert torch.allclose(labels[0], embed(ids("cheap")).mean(0))
        assert torch.allclose(labels[1], embed(ids("coffee shop")).mean(0))  # multi-token labels averaged
        table = embed(torch.arange(len(word_tokenizer)))
    specials = set(word_tokenizer.all_special_ids)
    for row in labels[2:]:  # the rest: embeddings of distinct non-special vocabulary tokens
        matches = [i for i in range(len(word_tokenizer)) if torch.allclose(row, table[i])]
        assert len(matches) == 1 and matches[0] not in specials
    short = PromptTuning(model, PromptConfig(prompt_length=1, init="class_labels", class_labels=("cheap", "coffee shop")),
                         tokenizer=word_tokenizer).encoder.embedding  # more labels than positions: the first ones
    assert short.shape[0] == 1 and torch.allclose(short[0], labels[0])
    sampled = PromptTuning(model, PromptConfig(prompt_length=6, init="sampled_vocab", vocab_population=10),
                           tokenizer=word_tokenizer).encoder.embedding
    picked = {next(i for i in range(len(word_tokenizer)) if torch.allclose(row, table[i])) for row in sampled}
    assert len(picked) == 6 and all(i < 10 and i not in specials for i in picked)


def test_prompt_round_trip_and_errors(tmp_path):
    tuner = PromptTuning(tiny_gpt2(), PromptConfig(prompt_length=3, reparameterization="mlp", mid_dim=8)).eval()
    methods.save(tuner, tmp_path)
    reloaded = methods.load(tiny_gpt2(), tmp_path).eval()
    ids = torch.randint(0, 63, (2, 5))
    with torch.no_grad():
        assert torch.allclose(tuner.logits(ids, torch.ones_like(ids)), reloaded.logits(ids, torch.ones_like(ids)),
                              atol=1e-6)
    with pytest.raises(ConfigError, match="prompt_length"):
        PromptConfig(prompt_length=0)
    with pytest.raises(ConfigError, match="reparameterization"):
        PromptConfig(reparameterization="gru")
    with pytest.raises(ConfigError, match="class_labels"):
        PromptConfig(init="class_labels")
