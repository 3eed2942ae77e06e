"""Where the reproduction follows the reference code line by line (issue "faithfulness fixes"): each
behaviour observed, against a port of the reference's own rule where there is one (transformers 3.2's
BART beam search and tokenizer split, T5X's Adafactor), and the paper-scale configs that switch it on.
Smoke and mini configs keep what they had (their fingerprints stay)."""
import math

import numpy as np
import pytest
import torch

from repro import decoding, methods
from repro.batches import Collator
from repro.config import REPRODUCTIONS_DIR, load_reproduction, validate
from repro.methods import ConfigError
from repro.models import tiny_bart, tiny_gpt2
from repro.train import T5XAdafactor, TrainConfig, make_optimizer

REPRODUCTIONS = sorted(p.parent.name for p in REPRODUCTIONS_DIR.glob("*/config.yaml"))
XSUM_PINS = {"num_beams": 6, "length_penalty": 0.8, "max_new_tokens": 60, "min_new_tokens": 10,
             "no_repeat_ngram_size": 3, "early_stopping": True, "forced_bos_token_id": None,
             "length_normalization": "full_sequence"}
XSUM_SELECTION = {"select_every_epoch": True, "select_metric": "ROUGE-2", "select_split": "dev", "select_inputs": 500}


def specs(scale):
    return [s for name in REPRODUCTIONS for s in load_reproduction(name).runs(scale)]


def is_gpt2(spec):
    return "gpt2" in spec.model_name


# ------------------------------------------------------------------ 1. GPT-2 length normalization, 7. layout
def test_paper_gpt2_runs_decode_and_encode_as_the_reference_and_the_local_scales_do_not():
    paper = [s for s in specs("paper") if is_gpt2(s)]
    assert {s.reproduction for s in paper} == {"table2_table_to_text", "embedding_only", "prefix_vs_infix",
                                               "init_strategy", "low_data", "prefix_length", "extrapolation"}
    assert all(s.decode["length_normalization"] == "full_sequence" and s.token_layout == "reference" for s in paper)
    assert all(s.to_dict()["token_layout"] == "reference" for s in paper)  # part of the fingerprint there
    for scale in ("smoke", "mini"):
        local = specs(scale)
        assert all(s.decode.get("length_normalization", "generated") == "generated" for s in local)
        assert all(s.token_layout == "joined" and "token_layout" not in s.to_dict() for s in local)


def test_config_validation_accepts_both_length_rules_and_refuses_others():
    import yaml

    raw = yaml.safe_load((REPRODUCTIONS_DIR / "table2_table_to_text" / "config.yaml").read_text())
    validate(raw, "t")  # full_sequence (paper) and generated (default) pass
    raw["scales"]["paper"]["decode"] = {"e2e": {"length_normalization": "prompt"}}
    with pytest.raises(ConfigError, match=r"decode e2e: length_normalization='prompt'.*'generated', 'full_sequence'"):
        validate(raw, "t")
    raw["scales"]["paper"]["decode"] = {}
    raw["scales"]["paper"]["token_layout"] = {"e2e": "spaced"}
    with pytest.raises(ConfigError, match="token_layout must be one of"):
        validate(raw, "t")


@pytest.fixture(scope="module")
def gpt2_tokenizer():
    """A GPT-2 byte-level BPE with `<|endoftext|>` as its added special token (the smoke tokenizer's build)."""
    from repro.tiny_tokenizer import make_tokenizer, train_bpe

    texts = ["name : Alimentum | area : city centre | family friendly : no",
             "There is a place in the city centre, Alimentum, that is not family-friendly."] * 20
    return make_tokenizer(train_bpe(texts, 290, min_frequency=1), "gpt2", model_max_length=512)


def transformers_32_ids(tokenizer, text):
    """transformers 3.2's `tokenize` of a GPT-2 text: split at the special token (`split_on_token`), no
    stripping beside it (GPT2Tokenizer makes it AddedToken(lstrip=False, rstrip=False)), BPE per piece."""
    eot = tokenizer.eos_token
    ids = []
    for i, piece in enumerate(text.split(eot)):
        if i:
            ids.append(tokenizer.eos_token_id)
        if piece:
            ids += tokenizer(piece, add_special_tokens=False)["input_ids"]
    return ids


def test_reference_layout_is_the_reference_strings_ids(gpt2_tokenizer):
    tok = gpt2_tokenizer
    x, y = "name : Alimentum | area : city centre", "There is a place in the city centre."
    collator = Collator(tok, encoder_decoder=False, token_layout="reference")
    batch = collator.train_batch([(x, y)])
    expected = transformers_32_ids(tok, f" {x} {tok.eos_token} {y} {tok.eos_token}")
    assert batch.input_ids[0].tolist() == expected
    # the transformers 5 tokenizer strips nothing beside <|endoftext|> either: the whole string, encoded once
    assert tok(f" {x} {tok.eos_token} {y} {tok.eos_token}", add_special_tokens=False)["input_ids"] == expected
    space = tok(" ", add_special_tokens=False)["input_ids"]
    eos_at = [i for i, t in enumerate(expected) if t == tok.eos_token_id]
    assert len(space) == 1 and all(expected[i - 1] == space[0] for i in eos_at)  # a space token before each
    labels = batch.labels[0].tolist()
    assert labels[:eos_at[0] + 1] == [-100] * (eos_at[0] + 1) and labels[eos_at[1] - 1] == space[0]
    assert collator.prompt_batch([x]).input_ids[0].tolist() == transformers_32_ids(tok, f" {x} {tok.eos_token}")
    joined = Collator(tok, encoder_decoder=False).train_batch([(x, y)]).input_ids[0].tolist()
    assert joined == [t for i, t in enumerate(expected) if i + 1 not in eos_at]  # the default: no space tokens
    assert Collator(tok, False, token_layout="reference").decode(torch.tensor([expected[eos_at[0] + 1:]])) == [y]


# ------------------------------------------------------------------ 2. XSUM decoding
def test_every_xsum_paper_run_pins_the_reference_decoding():
    xsum = [s for s in specs("paper") if s.dataset.startswith("xsum")]
    assert {s.reproduction for s in xsum} == {"table3_xsum", "low_data", "prefix_length", "extrapolation"}
    for spec in xsum:
        assert {k: spec.decode.get(k, "missing") for k in XSUM_PINS} == XSUM_PINS, spec.run_id


def bart_beam_search_32(model, src, max_length, min_length, num_beams, length_penalty, no_repeat_ngram_size,
                        early_stopping, eos, start):
    """A port of transformers 3.2's `_generate_beam_search` for one BART input, with BART's
    `adjust_logits_during_generation` (</s> forced at cur_len == max_length - 1, no forced BOS) and
    BeamHypotheses (score / len(hyp) ** length_penalty, hyp = decoder start + tokens before </s>).
    Returns the best hypothesis's tokens after the decoder start, and whether it ended on the forced </s>."""
    K = num_beams
    with torch.no_grad():
        encoded = model.get_encoder()(input_ids=src.repeat(K, 1)).last_hidden_state
    ids = torch.full((K, 1), start)
    beam_scores = torch.zeros(K)
    beam_scores[1:] = -1e9
    hyps, worst, done = [], 1e9, False

    def add(hyp, score):
        nonlocal worst
        score = score / len(hyp) ** length_penalty
        if len(hyps) < K or score > worst:
            hyps.append((score, hyp))
            if len(hyps) > K:
                ranked = sorted((s, i) for i, (s, _) in enumerate(hyps))
                del hyps[ranked[0][1]]
                worst = ranked[1][0]
            else:
                worst = min(score, worst)

    cur_len = 1
    while cur_len < max_length:
        with torch.no_grad():
            logits = model(encoder_outputs=(encoded,), decoder_input_ids=ids).logits[:, -1].float()
        if cur_len == max_length - 1:
            forced = torch.full_like(logits, -float("inf"))
            forced[:, eos] = logits[:, eos]
            logits = forced
        scores = torch.log_softmax(logits, -1)
        if cur_len < min_length:
            scores[:, eos] = -float("inf")
        if cur_len + 1 >= no_repeat_ngram_size:
            for row in range(K):
                tokens = ids[row].tolist()
                seen = {}
                for gram in zip(*[tokens[i:] for i in range(no_repeat_ngram_size)]):
                    seen.setdefault(tuple(gram[:-1]), []).append(gram[-1])
                banned = seen.get(tuple(tokens[cur_len + 1 - no_repeat_ngram_size:cur_len]), [])
                scores[row, banned] = -float("inf")
        V = scores.shape[-1]
        top, index = torch.topk((scores + beam_scores[:, None]).view(-1), 2 * K)
        nxt = []
        for rank, (score, flat) in enumerate(zip(top.tolist(), index.tolist())):
            beam, token = divmod(flat, V)
            if token == eos:
                if rank < K:
                    add(ids[beam].clone(), score)
            else:
                nxt.append((score, token, beam))
            if len(nxt) == K:
                break
        if len(hyps) >= K:
            done = done or early_stopping or worst >= top.max().item() / cur_len ** length_penalty
        if done:
            break
        beam_scores = torch.tensor([s for s, _, _ in nxt])
        ids = torch.cat([ids[[b for _, _, b in nxt]], torch.tensor([[t] for _, t, _ in nxt])], 1)
        cur_len += 1
    if not done:
        for row in range(K):
            add(ids[row], beam_scores[row].item())
    best = max(hyps, key=lambda h: h[0])[1].tolist()
    return best[1:], len(best) == max_length - 1


def test_pinned_xsum_search_is_transformers_32s_bart_beam_search():
    """max_length L / min_length m of the reference = max_new_tokens L - 2 / min_new_tokens m - 1 under
    full_sequence: the decoder start counts in L and m, and 3.2 forces </s> at length L - 1, which scores 0
    and is not counted, as full_sequence adds the beams left at L - 2 new tokens. 64 random inputs of seed
    0 (not chosen; all 320 tried agree, among them the 2 whose K-th hypothesis ends at the last free step,
    where 3.2 is done and adds no open beam)."""
    model = tiny_bart(vocab_size=12, d_model=16, seed=3, init_std=0.5, dropout=0.0).eval()
    tuner = methods.build(model, "finetune", {}).eval()
    max_length, min_length, K, eos, start = 9, 3, 3, 2, 2
    options = {**XSUM_PINS, "num_beams": K, "max_new_tokens": max_length - 2, "min_new_tokens": min_length - 1,
               "eos_token_id": eos, "pad_token_id": 1, "decoder_start_token_id": start}
    def ours(src, **override):
        out = decoding.decode(tuner, src, torch.ones_like(src), **{**options, **override})[0].tolist()[1:]
        return out[:out.index(eos)] if eos in out else out

    off_by_one = 0
    g = torch.Generator().manual_seed(0)
    for case in range(64):
        src = torch.randint(3, 12, (1, 5), generator=g)
        expected, forced = bart_beam_search_32(model, src, max_length, min_length, K, XSUM_PINS["length_penalty"],
                                               XSUM_PINS["no_repeat_ngram_size"], True, eos, start)
        assert ours(src) == expected, case
        if forced:  # the best hypothesis ends on the forced </s>: one more free token would change it
            off_by_one += ours(src, max_new_tokens=max_length - 1) != expected
    assert off_by_one  # so max_new_tokens is max_length - 2, not max_length - 1


# ------------------------------------------------------------------ 3. adapters
def test_adapter_defaults_are_the_references_init_and_dropout():
    model = tiny_gpt2(n_embd=64, n_head=2, resid_pdrop=0.1)
    tuner = methods.build(model, "adapter", {"bottleneck": 32})
    for adapter in tuner.adapters:
        for linear in (adapter.down, adapter.up):
            assert abs(linear.weight.std().item() - 0.02) < 0.003 and not linear.bias.any()
    tuner.train()
    assert tuner.model.training  # GPT-2's own dropout on, as the reference's plain HF Trainer
    ids = torch.randint(0, 63, (2, 8))
    assert not torch.equal(tuner.logits(ids, torch.ones_like(ids)), tuner.logits(ids, torch.ones_like(ids)))
    off = methods.build(tiny_gpt2(), "adapter", {"bottleneck": 4, "base_model_dropout": False}).train()
    assert not off.model.training
    zero = methods.build(tiny_gpt2(), "adapter", {"bottleneck": 4, "init": "zero_up"})
    assert all(not a.up.weight.any() for a in zero.adapters)
    with pytest.raises(ConfigError, match="init='ones'"):
        methods.build(tiny_gpt2(), "adapter", {"init": "ones"})


def test_paper_adapter_rows_set_the_reference_options():
    rows = [s for s in load_reproduction("table2_table_to_text").runs("paper") if s.method == "adapter"]
    assert rows and all(s.options["init"] == "normal" and s.options["base_model_dropout"] is True for s in rows)


# ------------------------------------------------------------------ 4. FT-TOP2
def test_ft_top2_with_train_embeddings_unfreezes_what_the_references_top_layers_2_does():
    top = methods.build(tiny_gpt2(n_layer=4), "finetune", {"top_layers": 2, "train_embeddings": True})
    trainable = {n for n, p in top.model.named_parameters() if p.requires_grad}
    assert {n.split(".")[2] for n in trainable if ".h." in n} == {"2", "3"}
    assert "transformer.wte.weight" in trainable and "transformer.wpe.weight" not in trainable
    assert top.model.lm_head.weight is top.model.transformer.wte.weight  # the tied LM head trains with it
    assert {n for n in trainable if not n.startswith("transformer.h.")} == {
        "transformer.wte.weight", "transformer.ln_f.weight", "transformer.ln_f.bias"}
    plain = methods.build(tiny_gpt2(n_layer=4), "finetune", {"top_layers": 2})
    assert not plain.model.get_input_embeddings().weight.requires_grad
    with pytest.raises(ConfigError, match="train_embeddings goes with top_layers"):
        methods.build(tiny_gpt2(), "finetune", {"train_embeddings": True})
    paper = [s for s in load_reproduction("table2_table_to_text").runs("paper") if s.row == "FT-TOP2"]
    assert paper and all(s.options["train_embeddings"] is True for s in paper)
    assert all("train_embeddings" not in s.options for sc in ("smoke", "mini")
               for s in load_reproduction("table2_table_to_text").runs(sc))


# ------------------------------------------------------------------ 5. EMB-n init
def test_emb_n_paper_init_is_the_references_n01_embedding():
    paper = [s for s in load_reproduction("embedding_only").runs("paper") if s.method == "prompt"]
    assert len(paper) == 3 and all(s.options["init"] == "random_normal" for s in paper)
    torch.manual_seed(0)
    emb = methods.build(tiny_gpt2(), "prompt", {"prompt_length": 20, "reparameterization": "mlp",
                                                "init": "random_normal"}).encoder.embedding
    assert abs(emb.std().item() - 1.0) < 0.1 and emb.abs().max() > 2.0  # N(0, 1), not uniform in [-0.5, 0.5]
    default = methods.build(tiny_gpt2(), "prompt", {"prompt_length": 20, "reparameterization": "mlp"})
    assert default.encoder.embedding.abs().max() <= 0.5  # smoke / mini keep Lester's uniform default


# ------------------------------------------------------------------ 6. XSUM selection
def test_every_xsum_run_selects_on_val_rouge2_each_epoch():
    for spec in specs("paper"):
        if spec.dataset.startswith("xsum") and spec.reproduction != "low_data":  # low-data: dev loss, §6.3
            assert {k: spec.train.get(k) for k in XSUM_SELECTION} == XSUM_SELECTION, spec.run_id
    config = TrainConfig(epochs=3, batch_size=4, select_every_epoch=True, select_metric="ROUGE-2")
    assert [d for d in range(1, 10) if config.selects_at(d, 9, 10)] == [3, 6, 9]  # ceil(10 / 4) = 3 steps an epoch
    assert [d for d in range(1, 10) if TrainConfig(select_every=4).selects_at(d, 9, 10)] == [4, 8, 9]


def test_training_scores_the_selection_metric_at_each_epoch_end(tmp_path, gpt2_tokenizer):
    from repro.train import train

    tok = gpt2_tokenizer
    model = tiny_gpt2(vocab_size=len(tok), bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id,
                      pad_token_id=tok.eos_token_id)
    tuner = methods.build(model, "prefix", {"prefix_length": 2, "mid_dim": 8})
    pairs = [("name : Alimentum", "There is a place.")] * 10
    seen = []

    def metric(t):
        seen.append(len(seen))
        return "ROUGE-2", float(len(seen) == 2)

    config = TrainConfig(epochs=2, batch_size=4, checkpoint_every=0, select_every_epoch=True, select_metric="ROUGE-2")
    summary = train(tuner, Collator(tok, False), pairs, config, tmp_path, progress=False, dev_metric=metric)
    assert len(seen) == 2 and summary["selected_step"] == 6 and summary["selected_dev_ROUGE-2"] == 1.0


# ------------------------------------------------------------------ 8. Lester's optimizer and loss
def t5x_apply_param_gradient(step, param, state, grad, lr, weight_decay, decay_rate=0.8, clipping=1.0,
                             eps1=1e-30, min_dim=128):
    """numpy port of t5x/adafactor.py `apply_param_gradient` (heuristic factoring, no momentum, no
    parameter scaling), `step` 0-based as T5X's optimizer state."""
    decay = 1.0 - (step + 1.0) ** -decay_rate
    grad_sqr = grad * grad + eps1
    factored = None
    if param.ndim >= 2:
        order = np.argsort(param.shape)
        if param.shape[order[-2]] >= min_dim:
            factored = (int(order[-2]),), (int(order[-1]),)
    if factored is not None:
        d1, d0 = factored
        state["v_row"] = decay * state.get("v_row", 0.0) + (1 - decay) * grad_sqr.mean(axis=d0)
        state["v_col"] = decay * state.get("v_col", 0.0) + (1 - decay) * grad_sqr.mean(axis=d1)
        reduced_d1 = tuple(d - len([e for e in d0 if e < d]) for d in d1)
        row_factor = (state["v_row"] / state["v_row"].mean(axis=reduced_d1, keepdims=True)) ** -0.5
        y = grad * np.expand_dims(row_factor, d0) * np.expand_dims(state["v_col"] ** -0.5, d1)
    else:
        state["v"] = decay * state.get("v", 0.0) + (1 - decay) * grad_sqr
        y = grad * state["v"] ** -0.5
    y = y / max(1.0, np.sqrt(np.mean(y * y)) / clipping)
    return (1.0 - weight_decay) * param - lr * y


@pytest.mark.parametrize("shape", [(100, 256), (150, 256), (256, 150), (256,)],
                         ids=["prompt-100 (full)", "prompt-150 (factored)", "transposed", "vector"])
def test_adafactor_t5x_is_t5xs_update(shape):
    rng = np.random.default_rng(0)
    start = rng.normal(size=shape)
    param = torch.nn.Parameter(torch.tensor(start, dtype=torch.float32))  # T5X computes in float32
    optimizer = make_optimizer([param], TrainConfig(optimizer="adafactor_t5x", learning_rate=0.3, weight_decay=1e-5))
    assert isinstance(optimizer, T5XAdafactor)
    expected, state = start.copy(), {}
    for step in range(4):
        grad = rng.normal(size=shape) * (step + 1)
        param.grad = torch.tensor(grad, dtype=torch.float32)
        optimizer.step()
        expected = t5x_apply_param_gradient(step, expected, state, grad, 0.3, 1e-5)  # in float64
        np.testing.assert_allclose(param.detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    assert ("v" in optimizer.state[param]) == (len(shape) < 2 or min(shape) < 128)


def test_adafactor_t5x_weight_decay_is_not_scaled_by_the_learning_rate():
    from transformers.optimization import Adafactor

    ours, hf = (torch.nn.Parameter(torch.ones(4, 3)) for _ in range(2))
    t5x = make_optimizer([ours], TrainConfig(optimizer="adafactor_t5x", learning_rate=0.3, weight_decay=0.1))
    hf_opt = make_optimizer([hf], TrainConfig(optimizer="adafactor", learning_rate=0.3, weight_decay=0.1))
    assert isinstance(hf_opt, Adafactor)
    for p, opt in ((ours, t5x), (hf, hf_opt)):
        p.grad = torch.zeros_like(p)
        opt.step()
    assert torch.allclose(ours, torch.full((4, 3), 0.9))  # (1 - 0.1) p
    assert torch.allclose(hf, torch.full((4, 3), 1 - 0.1 * 0.3))  # HF: (1 - 0.1 * lr) p


def test_batch_sum_loss_is_the_token_sum_with_its_z_loss():
    model = tiny_bart(seed=1)
    src = torch.randint(3, 60, (3, 6))
    labels = torch.randint(3, 60, (3, 4))
    labels[0, 3] = -100
    mean = methods.build(model, "prompt", {"prompt_length": 2, "loss_reduction": "token_mean", "z_loss": 1e-4})
    total = methods.build(model, "prompt", {"prompt_length": 2, "loss_reduction": "batch_sum", "z_loss": 1e-4})
    total.load_state_dict(mean.state_dict())
    mean.eval(), total.eval()
    mask = torch.ones_like(src)
    assert torch.allclose(total(src, mask, labels).loss, mean(src, mask, labels).loss * 11)  # 11 target tokens


def test_lester_paper_runs_train_as_t5x_and_the_local_scales_do_not():
    for name in ("prompt_length", "prompt_init", "prompt_ensembling"):
        reproduction = load_reproduction(name)
        for spec in reproduction.runs("paper"):
            assert spec.train["optimizer"] == "adafactor_t5x" and spec.train["grad_clip"] == 0.0
            assert spec.options["loss_reduction"] == "batch_sum" and spec.limits["truncate_eval_sources"] is False
            assert spec.train["select_metric"] == "task"
        for scale in ("smoke", "mini"):
            for spec in reproduction.runs(scale):
                assert spec.train["optimizer"] == "adafactor" and "loss_reduction" not in spec.options
                assert "truncate_eval_sources" not in spec.limits


# ------------------------------------------------------------------ 9. Lester's early-stopping metric
def test_task_selection_metric_is_the_mean_of_a_tasks_metrics():
    from repro.runner import task_metric

    cb = [{"split": "dev", "metric": "acc", "value": 80.0}, {"split": "dev", "metric": "F1", "value": 60.0}]
    assert task_metric(cb) == ("mean(acc,F1)", 70.0)
    multirc = [{"split": "dev", "metric": "F1a", "value": 70.0}, {"split": "dev", "metric": "EM", "value": 30.0}]
    assert task_metric(multirc) == ("mean(F1a,EM)", 50.0)
    assert task_metric([{"split": "dev", "metric": "acc", "value": 91.0}]) == ("acc", 91.0)
    mixed = [{"split": "test", "metric": "BLEU", "value": 40.0}, {"split": "test", "metric": "TER(lower better)",
             "value": 0.5}, {"split": "test-seen", "metric": "BLEU", "value": 10.0}]
    assert task_metric(mixed) == ("BLEU", 40.0)  # higher-better metrics of the first split only


# ------------------------------------------------------------------ 10. Lester's evaluation inputs
def test_evaluation_sources_stay_whole_when_truncate_eval_sources_is_false(gpt2_tokenizer):
    from repro.runner import check_positions, collator_for

    bart_tok = _bart_tokenizer()
    source = "the city centre has a place " * 6
    cut = Collator(bart_tok, True, max_source_tokens=8)
    whole = Collator(bart_tok, True, max_source_tokens=8, truncate_prompts=False)
    full = bart_tok(source)["input_ids"]
    assert len(full) > 8
    assert cut.prompt_batch([source]).input_ids[0].tolist() == full[:7] + [full[-1]]
    assert whole.prompt_batch([source]).input_ids[0].tolist() == full  # decoding: the whole input
    assert whole.train_batch([(source, "yes")]).input_ids[0].tolist() == full[:7] + [full[-1]]  # training: cut
    spec = load_reproduction("prompt_length").runs("paper", ["cb"])[0]
    assert collator_for(spec, bart_tok, True).truncate_prompts is False
    assert collator_for(load_reproduction("prompt_length").runs("smoke", ["cb"])[0], bart_tok, True).truncate_prompts
    tuner = methods.build(tiny_bart(), "prompt", {"prompt_length": 2})
    with pytest.raises(ConfigError, match="truncate_eval_sources: false"):
        check_positions(spec, tuner)  # BART's learned positions could not take an uncut input


def _bart_tokenizer():
    from repro.tiny_tokenizer import make_tokenizer, train_bpe

    texts = ["the city centre has a place", "yes no maybe", "There is a place in the city centre."] * 10
    return make_tokenizer(train_bpe(texts, 280, min_frequency=1), "bart", model_max_length=512)


# ------------------------------------------------------------------ 11. BART targets keep </s>
def test_cut_encoder_decoder_targets_keep_their_end_token(gpt2_tokenizer):
    tok = _bart_tokenizer()
    target = "There is a place in the city centre, a place in the city."
    full = tok(target)["input_ids"]
    assert len(full) > 6 and full[-1] == tok.eos_token_id
    collator = Collator(tok, True, max_target_tokens=6)
    labels = collator.train_batch([("the city", target)]).labels[0].tolist()
    assert labels == full[:5] + [tok.eos_token_id]  # as prepare_seq2seq_batch(truncation=True)
    assert Collator(tok, True, max_target_tokens=100).target_ids(target) == full  # short enough: unchanged
    gpt2 = Collator(gpt2_tokenizer, False, max_target_tokens=4).target_ids(target)
    assert len(gpt2) == 4 and gpt2_tokenizer.eos_token_id not in gpt2  # decoder-only: as the reference's block cut
