"""`repro export --to peft`: a finished run's prefix / prompt, loaded by peft's own
`PeftModel.from_pretrained(base, OUT_DIR)`, gives our tuner's logits (tiny GPT-2, Llama and Qwen2 with
grouped-query attention; no, right and left padding); what peft cannot represent is refused.

Select with `pytest -k peft`.
"""
import json

import pytest
import torch
from peft import PeftModel
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

from repro import methods
from repro.cli import main
from repro.export import export_to_peft
from repro.methods import ConfigError
from repro.models import tiny_bart, tiny_decoder

P, N_LAYER = 4, 3


def make_run(tmp_path, model, method, options, name="run"):
    """A finished-looking run directory: the base model saved with save_pretrained, config.json naming it,
    and the trained artifact under method/ (what repro run leaves)."""
    base = tmp_path / f"{name}-base"
    model.save_pretrained(base)
    tuner = methods.build(model, method, options)
    run = tmp_path / name
    methods.save(tuner, run / "method")
    (run / "config.json").write_text(json.dumps({"model_name": str(base), "method": method, "options": options,
                                                 "run_id": name}))
    return run, base, tuner.eval()


def batches():
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, 63, (3, 7), generator=g)
    full = torch.ones_like(ids)
    right, left = full.clone(), full.clone()
    right[1, 5:], right[2, 3:] = 0, 0
    left[1, :2], left[2, :4] = 0, 0
    return ids, {"no_padding": full, "right_padding": right, "left_padding": left}


def peft_logits(peft_model, ids, mask, n_prompt: int):
    with torch.no_grad():
        logits = peft_model(input_ids=ids, attention_mask=mask).logits
    return logits[:, n_prompt:]  # prompt tuning returns the virtual positions too


FAMILIES = ["gpt2", "llama", "qwen2"]
CASES = {
    "prefix_mlp": ("prefix", {"prefix_length": P, "mid_dim": 8}),
    "prefix_direct": ("prefix", {"prefix_length": P, "reparameterize": False}),
    "prompt": ("prompt", {"prompt_length": P}),
    "prompt_mlp": ("prompt", {"prompt_length": P, "reparameterization": "mlp", "mid_dim": 8}),
    "ptuning_lstm": ("prompt", {"prompt_length": P, "reparameterization": "lstm"}),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("family", FAMILIES)
def test_peft_export_loads_with_our_logits(tmp_path, family, case):
    method, options = CASES[case]
    run, base, tuner = make_run(tmp_path, tiny_decoder(family, n_layer=N_LAYER, initializer_range=0.2), method,
                                options)
    out = tmp_path / "peft"
    summary = export_to_peft(run, out)

    config = json.loads((out / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str(base)
    assert config["task_type"] == "CAUSAL_LM" and config["num_virtual_tokens"] == P
    weights = load_file(str(out / "adapter_model.safetensors"))
    assert set(weights) == {"prompt_embeddings"}
    saved = load_file(str(run / "method" / "weights.safetensors"))
    if method == "prefix":
        assert config["peft_type"] == "PREFIX_TUNING" and config["prefix_projection"] is False
        kv_width = 2 * 8 if family != "gpt2" else 16  # GQA: 2 key/value heads of 8 (model width 32)
        assert weights["prompt_embeddings"].shape == (P, N_LAYER * 2 * kv_width)
        assert torch.equal(weights["prompt_embeddings"], saved["prefix.decoder"].reshape(P, -1))
    else:
        assert config["peft_type"] == "PROMPT_TUNING"
        assert weights["prompt_embeddings"].shape == (P, tuner.model.config.get_text_config().hidden_size)
        assert torch.equal(weights["prompt_embeddings"], saved["prompt"])
    assert summary["base_model_name_or_path"] == str(base) and summary["num_virtual_tokens"] == P

    peft_model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base), out).eval()
    ids, masks = batches()
    for padding, mask in masks.items():
        with torch.no_grad():
            ours = tuner.logits(ids, mask)  # the trained tuner itself (MLP / LSTM included)
            plain = tuner.model(input_ids=ids, attention_mask=mask).logits
        theirs = peft_logits(peft_model, ids, mask, P if method == "prompt" else 0)
        real = mask.bool()
        assert (theirs - ours)[real].abs().max() <= 1e-5, padding
        assert (plain - ours)[real].abs().max() > 1e-3, padding  # the method matters: not a vacuous match


def test_peft_export_records_the_runs_model_name_verbatim(tmp_path, monkeypatch):
    """A relative model_name (models/gpt2-mini at mini scale) is what peft's config names, not a resolved path."""
    monkeypatch.chdir(tmp_path)
    model = tiny_decoder("llama", n_layer=2, initializer_range=0.2)
    model.save_pretrained(tmp_path / "models" / "tiny-llama")
    tuner = methods.build(model, "prefix", {"prefix_length": P, "mid_dim": 8})
    methods.save(tuner, tmp_path / "run" / "method")
    (tmp_path / "run" / "config.json").write_text(json.dumps({"model_name": "models/tiny-llama", "method": "prefix"}))
    export_to_peft("run", "out")
    assert json.loads((tmp_path / "out" / "adapter_config.json").read_text())["base_model_name_or_path"] == \
        "models/tiny-llama"


def test_peft_export_cli_succeeds(tmp_path, capsys):
    run, base, _ = make_run(tmp_path, tiny_decoder("gpt2", n_layer=2), "prompt", {"prompt_length": P})
    assert main(["export", "--run", str(run), "--to", "peft", str(tmp_path / "out")]) == 0
    assert "wrote" in capsys.readouterr().out
    assert (tmp_path / "out" / "adapter_config.json").is_file()


def bart_prefix_run(tmp_path, **options):
    return make_run(tmp_path, tiny_bart(layers=2), "prefix", {"prefix_length": P, "mid_dim": 8, **options})[0]


def infix_run(tmp_path):
    return make_run(tmp_path, tiny_decoder("gpt2", n_layer=2), "infix", {"infix_length": 3, "mid_dim": 8})[0]


REFUSED = {
    # BART: encoder, decoder and cross-attention prefixes; also a decoder-only BART prefix (peft shifts positions)
    "bart_prefix": (bart_prefix_run, "encoder-decoder"),
    "bart_decoder_prefix": (lambda t: bart_prefix_run(t, attention_sets=["decoder"]), "cannot be represented"),
    "infix": (infix_run, "infix"),
    "lora": (lambda t: make_run(t, tiny_decoder("gpt2", n_layer=2), "lora", {})[0], "prefix and prompt runs only"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_peft_export_refuses_what_peft_cannot_represent(tmp_path, capsys, case):
    make, needle = REFUSED[case]
    run = make(tmp_path)
    out = tmp_path / "out"
    with pytest.raises(ConfigError, match=needle):
        export_to_peft(run, out)
    assert not out.exists()
    capsys.readouterr()  # save_pretrained's progress bars
    assert main(["export", "--run", str(run), "--to", "peft", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("repro export: error:") and needle in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err and not out.exists()


def test_peft_export_refuses_missing_unfinished_and_runtime_model_runs(tmp_path, capsys):
    with pytest.raises(ConfigError, match="not a run directory"):
        export_to_peft(tmp_path / "nowhere", tmp_path / "out")
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / "config.json").write_text(json.dumps({"model_name": "models/gpt2-mini", "method": "prefix"}))
    with pytest.raises(ConfigError, match="not finished"):
        export_to_peft(unfinished, tmp_path / "out")
    smoke, _, _ = make_run(tmp_path, tiny_decoder("gpt2", n_layer=2), "prefix", {"prefix_length": P}, name="smoke")
    spec = json.loads((smoke / "config.json").read_text())
    (smoke / "config.json").write_text(json.dumps({**spec, "model_name": "tiny:gpt2"}))
    with pytest.raises(ConfigError, match="no saved weights"):
        export_to_peft(smoke, tmp_path / "out")
    capsys.readouterr()
    for run in (tmp_path / "nowhere", unfinished, smoke):
        assert main(["export", "--run", str(run), "--to", "peft", str(tmp_path / "out")]) == 2
        assert capsys.readouterr().err.startswith("repro export: error:")
    assert not (tmp_path / "out").exists()
