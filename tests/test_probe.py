"""`repro probe` (does a recipe learn its label words?) and scales marked `known_failure`."""
import math

import pytest
import torch
import yaml

from conftest import needs_data
from repro.batches import Collator
from repro.config import load_reproduction, validate
from repro.methods import ConfigError
from repro.models import tiny_model_and_tokenizer
from repro.probe import first_label_position, label_ids, probe, target_token_nll

PAIRS = [("premise: the cat sat. hypothesis: a cat sat.", "entailment"),
         ("premise: it rains. hypothesis: it is dry.", "contradiction"),
         ("premise: he left. hypothesis: he was tired.", "neutral")]


@pytest.mark.parametrize("kind", ["bart", "gpt2"])
def test_per_token_losses_match_the_training_loss(kind):
    from repro import methods

    model, tok = tiny_model_and_tokenizer(kind, [t for p in PAIRS for t in p], 0)
    tuner = methods.build(model, "prompt", {"prompt_length": 3}, tokenizer=tok)
    collator = Collator(tok, kind == "bart", 32, 8)
    rows = target_token_nll(tuner, collator, PAIRS)
    assert [len(r) for r in rows] == [len(collator.target_ids(t)) for _, t in PAIRS]
    batch = collator.train_batch(PAIRS)
    with torch.no_grad():
        loss = tuner(**batch.as_kwargs()).loss.item()
    expected = torch.cat(rows).mean().item() if kind == "bart" else sum(r.sum().item() for r in rows) / len(rows)
    assert loss == pytest.approx(expected, rel=1e-5)  # token mean (BART) / per-sequence sum (GPT-2)


@pytest.mark.parametrize("kind", ["bart", "gpt2"])
def test_first_label_position_skips_barts_start_token(kind):
    _, tok = tiny_model_and_tokenizer(kind, [t for p in PAIRS for t in p], 0)
    collator = Collator(tok, kind == "bart", 32, 8)
    position = first_label_position(collator, "entailment")
    assert position == (1 if kind == "bart" else 0)
    target = collator.target_ids("entailment")
    word = target[position:position + len(label_ids(collator, "entailment"))]
    assert tok.decode(word).strip() == "entailment"  # GPT-2's pieces carry the leading space
    assert not set(word) & set(tok.all_special_ids)


@needs_data
def test_probe_reports_the_label_prior_and_training_moves_the_label_loss():
    report = probe("prompt_init", "smoke", "cb", method="finetune",
                   train_overrides={"max_steps": 20, "learning_rate": 1e-3, "optimizer": "adamw"})
    spec = load_reproduction("prompt_init").runs("smoke", ["cb"])[0]
    from repro.runner import load_data

    pairs, _ = load_data(spec)
    counts = {}
    for _, target in pairs:  # smoke CB labels start with distinct first pieces (checked below)
        counts[target] = counts.get(target, 0) + 1
    entropy = -sum(c / len(pairs) * math.log(c / len(pairs)) for c in counts.values())
    firsts = {pieces.split()[0] for pieces in report["label_pieces"].values()}
    assert len(firsts) == len(report["label_pieces"])
    assert report["first_token_prior_loss"] == pytest.approx(entropy)
    assert report["method"] == "finetune" and report["train"]["max_steps"] == 20
    assert report["after"]["first_label_token_loss"] < report["before"]["first_label_token_loss"] - 1.0
    for stage in ("before", "after"):
        assert 0 <= report[stage]["rank_accuracy"] <= 1 and 0 <= report[stage]["generation_accuracy"] <= 1


def test_probe_refuses_unknown_settings_and_rows():
    with pytest.raises(ConfigError, match="unknown training setting.*'max_step'.*max_steps"):
        probe("prompt_init", "smoke", "cb", train_overrides={"max_step": 5})
    with pytest.raises(ConfigError, match="no row 'banana'.*class label"):
        probe("prompt_init", "smoke", "cb", row="banana")


def _marked_config(tmp_path, reason):
    raw = load_reproduction("prompt_init").raw
    raw["scales"]["smoke"]["known_failure"] = reason
    path = tmp_path / "prompt_init_marked" / "config.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(raw))
    return path


def test_a_known_failure_scale_is_refused_with_its_reason_and_exit_4(tmp_path, capsys):
    from repro.cli import main
    from repro.runner import KNOWN_FAILURE_EXIT

    path = _marked_config(tmp_path, "the mini models cannot be steered; see README")
    args = ["run", "--reproduction", str(path), "--scale", "smoke", "--results-dir", str(tmp_path / "r")]
    assert main(args) == KNOWN_FAILURE_EXIT
    err = capsys.readouterr().err
    assert "cannot be steered" in err and "--allow-known-failure" in err
    assert main(args + ["--check-data"]) == KNOWN_FAILURE_EXIT  # reproduce-all skips it with the reason
    assert not (tmp_path / "r").exists()  # nothing half-written


@needs_data
def test_allow_known_failure_runs_the_scale_anyway(tmp_path):
    from repro.cli import main

    path = _marked_config(tmp_path, "known to give zeros")
    assert main(["run", "--reproduction", str(path), "--scale", "smoke", "--check-data",
                 "--allow-known-failure"]) == 0


def test_known_failure_must_say_why():
    raw = load_reproduction("prompt_init").raw
    raw["scales"]["smoke"]["known_failure"] = True
    with pytest.raises(ConfigError, match="known_failure must say why"):
        validate(raw, "prompt_init")
    assert load_reproduction("table2_table_to_text").known_failure("mini") is None


def test_the_readme_probe_table_matches_the_committed_probe_outputs():
    import glob
    import re

    from repro.config import REPO
    from repro.probe import probe_table

    text = (REPO / "reproductions" / "prompt_length" / "README.md").read_text()
    blocks = re.findall(r"<!-- probes: (\S+) -->\n(.*?)\n<!-- /probes -->", text, re.S)
    assert len(blocks) == 2  # the homemade models' probes and SmolLM2's prompt-length probes
    for pattern, table in blocks:
        files = sorted(glob.glob(str(REPO / pattern)))
        assert files, f"no probe outputs match {pattern}"
        assert table == probe_table(files)


def test_command_line_values_parse_as_numbers_where_yaml_would_not():
    from repro.probe import parse_value

    assert parse_value("1e-4") == 1e-4 and parse_value("300") == 300 and parse_value("adamw") == "adamw"


def test_claims_file_says_why_a_known_failure_scale_has_no_verdict(tmp_path):
    from repro.reporting.claims import results_page

    _marked_config(tmp_path, "the minis cannot be prompt-tuned")
    text = results_page(tmp_path / "results", tmp_path, tmp_path / "figures")
    assert "| smoke | not run: known failure — the minis cannot be prompt-tuned | | | | |" in text
    assert "| smoke | **not run: known failure** | why: the smoke row of the table above |" in text
