"""`repro export`: a finished run's prefix or prompt in peft's format.

    repro export --run results/<reproduction>/<scale>/<run_id> --to peft OUT_DIR

then, anywhere peft is installed:

    base = AutoModelForCausalLM.from_pretrained(<the run's model_name>)
    model = PeftModel.from_pretrained(base, OUT_DIR)      # the same logits as our tuner

Decoder-only models (GPT-2, the Llama family: Llama, Qwen2, Mistral) only:

* prefix -> `PrefixTuningConfig(prefix_projection=False)`: the folded prefix (the MLP is not kept,
  as `methods.save` does not keep it), stored as peft's `prompt_embeddings` of shape
  (P, n_layers * 2 * kv_width), the [k_0, v_0, k_1, v_1, ...] order of our folded
  (P, n_layers, 2, kv_width) prefix; kv_width = key/value heads x head dim (grouped-query attention
  included, as peft's `_prepare_prompt_learning_config` sizes it);
* prompt -> `PromptTuningConfig`: the (P, d_model) prompt. An MLP or P-tuning (LSTM) prompt
  exports its folded output, a plain prompt in front of the input embeddings.

The folder is written by peft itself: the PeftModel is built on the run's base model with that
config, our numbers go in through `set_peft_model_state_dict`, and `save_pretrained` writes it. The
run's `model_name` is recorded as `base_model_name_or_path`.

Refused, with the reason (exit status 2): BART prefixes (peft's seq2seq prefix has no encoder or
cross-attention prefix), infix (peft has no [x; INFIX; y] method), the other methods, encoder-decoder
models, the smoke scale's `tiny:` / `scratch:` base models (no saved weights to point peft at), and a
missing or unfinished run directory.
"""
from __future__ import annotations

import json
from pathlib import Path

from repro.methods.base import ConfigError

TARGETS = ("peft",)


def read_run(run_dir: str | Path) -> tuple[dict, dict]:
    """The run's config.json and its method/method.json; a one-line ConfigError when either is missing."""
    run_dir = Path(run_dir)
    config_path, method_dir = run_dir / "config.json", run_dir / "method"
    if not config_path.is_file():
        raise ConfigError(f"{run_dir} is not a run directory (no config.json): pass a finished run, "
                          "results/<reproduction>/<scale>/<run_id>/")
    if not (method_dir / "method.json").is_file() or not (method_dir / "weights.safetensors").is_file():
        raise ConfigError(f"run {run_dir} is not finished (no method/method.json and method/weights.safetensors): "
                          "let `repro run` finish it, then export")
    try:
        spec = json.loads(config_path.read_text())
        info = json.loads((method_dir / "method.json").read_text())
    except json.JSONDecodeError as err:
        raise ConfigError(f"run {run_dir}: unreadable JSON ({err}); rerun it with `repro run --force`") from None
    if not spec.get("model_name"):
        raise ConfigError(f"run {run_dir}: config.json names no model_name; rerun it with `repro run --force`")
    return spec, info


def check_exportable(run_dir: Path, method: str, model_name: str):
    """Refusals that need no model: a method or base model peft cannot be pointed at."""
    if method == "infix":
        raise ConfigError(f"run {run_dir} is an infix run: peft cannot represent an infix ([x; INFIX; y] "
                          "activations between source and target); only prefix and prompt runs export to peft")
    if method not in ("prefix", "prompt"):
        raise ConfigError(f"run {run_dir} is a {method!r} run: `repro export --to peft` exports prefix and prompt "
                          "runs only")
    from repro.models import SCRATCH_PREFIX, TINY_PREFIX

    if model_name.startswith((TINY_PREFIX, SCRATCH_PREFIX)):
        raise ConfigError(f"run {run_dir} was trained on {model_name!r}, a model built at run time with no saved "
                          "weights for peft to load: export runs of a saved or hub model (mini or paper scale)")


def load_base(model_name: str, run_dir: Path, method: str):
    """The run's base model (decoder-only), from the hub name or folder in its config.json; no tokenizer."""
    from transformers import AutoConfig, AutoModelForCausalLM

    from repro.families import DECODER_ONLY, family_for_type
    from repro.models import ModelLoadError

    try:
        config = AutoConfig.from_pretrained(model_name)
    except (OSError, ValueError) as err:
        raise ModelLoadError(f"cannot load the base model {model_name!r} of run {run_dir}: {type(err).__name__}: "
                             f"{str(err).splitlines()[0] if str(err) else ''}; run from the directory the run was "
                             "trained in (a local model_name is relative to it), or make the hub model available") \
            from None
    family = family_for_type(config.model_type)
    if family.architecture != DECODER_ONLY:
        why = ("peft's seq2seq prefix has no encoder or cross-attention prefix and shifts the decoder's positions "
               "by P, so this prefix cannot be represented in peft" if method == "prefix" else
               "exporting a prompt is checked against peft for decoder-only models only")
        raise ConfigError(f"run {run_dir} uses {model_name!r}, a {config.model_type} (encoder-decoder) model: {why}; "
                          "`repro export --to peft` covers decoder-only models (GPT-2, Llama, Qwen2, Mistral)")
    return AutoModelForCausalLM.from_pretrained(model_name).eval()


def export_to_peft(run_dir: str | Path, out_dir: str | Path) -> dict:
    """Write the run's prefix or prompt into `out_dir` as a peft adapter; returns a summary of what was written."""
    import torch
    from peft import PrefixTuningConfig, PromptTuningConfig, TaskType, get_peft_model
    from peft.utils import get_peft_model_state_dict, set_peft_model_state_dict

    from repro import methods

    run_dir, out_dir = Path(run_dir), Path(out_dir)
    spec, info = read_run(run_dir)
    model_name, method = spec["model_name"], info.get("method")
    if spec.get("method") not in (None, method):
        raise ConfigError(f"run {run_dir}: config.json says method {spec.get('method')!r} but method/method.json "
                          f"holds {method!r}; rerun it with `repro run --force`")
    check_exportable(run_dir, method, model_name)
    model = load_base(model_name, run_dir, method)
    tuner = methods.load(model, run_dir / "method")  # checks the artifact's shapes against the base model
    state = tuner.export_state_dict()
    if method == "prefix":
        folded = state["prefix.decoder"]  # (P, n_layers, 2, kv_width)
        length = folded.shape[0]
        table = folded.reshape(length, -1)
        config = PrefixTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=length, prefix_projection=False)
    else:
        table = state["prompt"]  # (P, d_model)
        length = table.shape[0]
        config = PromptTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=length)
    del tuner
    peft_model = get_peft_model(model, config)
    expected = tuple(peft_model.prompt_encoder["default"].embedding.weight.shape)
    if expected != tuple(table.shape):
        raise ConfigError(f"run {run_dir}: peft lays out this {model.config.model_type} model's {method} as "
                          f"{expected}, ours is {tuple(table.shape)}; peft cannot hold it as it is")
    table = table.detach().float().contiguous()
    set_peft_model_state_dict(peft_model, {"prompt_embeddings": table})
    written = get_peft_model_state_dict(peft_model)["prompt_embeddings"]
    if not torch.equal(written.float().cpu(), table.cpu()):  # peft took our numbers as they are
        raise RuntimeError(f"peft did not keep the {method} of {run_dir} unchanged")
    peft_model.peft_config["default"].base_model_name_or_path = model_name
    out_dir.mkdir(parents=True, exist_ok=True)
    peft_model.save_pretrained(str(out_dir))
    return {"out_dir": str(out_dir), "peft_type": str(config.peft_type.value), "method": method,
            "num_virtual_tokens": length, "shape": list(table.shape), "base_model_name_or_path": model_name}


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "export", help="write a finished run's prefix or prompt in peft's format (decoder-only models)",
        description="Export the trained prefix (folded, without its MLP) or prompt of a finished run so that "
                    "peft's PeftModel.from_pretrained(base, OUT_DIR) loads it and gives the same logits. "
                    "Decoder-only models (GPT-2, Llama family); BART prefixes and infix are refused (exit 2).")
    parser.add_argument("--run", required=True, metavar="RUN_DIR",
                        help="a finished run directory, results/<reproduction>/<scale>/<run_id>/")
    parser.add_argument("--to", required=True, choices=TARGETS, help="the target format")
    parser.add_argument("out_dir", metavar="OUT_DIR", help="folder to write (peft's adapter_config.json + weights)")
    parser.set_defaults(func=_command)


def _command(args) -> int:
    summary = export_to_peft(args.run, args.out_dir)
    print(f"wrote {summary['out_dir']}: peft {summary['peft_type']} ({summary['method']}, "
          f"{summary['num_virtual_tokens']} virtual tokens, {tuple(summary['shape'])}), "
          f"base model {summary['base_model_name_or_path']}")
    return 0
