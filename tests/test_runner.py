"""The runner end to end at smoke scale: run directories, skip/resume rules, config errors."""
import json

import pytest

from conftest import needs_data
from repro.config import load_reproduction
from repro.methods import ConfigError
from repro.runner import run, subset


@pytest.fixture(scope="module")
def table2():
    return load_reproduction("table2_table_to_text")


@needs_data
@pytest.mark.slow
def test_smoke_prefix_runs_write_complete_run_directories(tmp_path_factory, table2):
    results = tmp_path_factory.mktemp("results")
    specs = [s for s in table2.runs("smoke") if s.row == "PREFIX(0.1%)"]
    assert {s.dataset for s in specs} == {"e2e", "webnlg", "dart"}
    for spec in specs:
        run_dir = run(spec, results, progress=False)
        assert run_dir == results / "table2_table_to_text" / "smoke" / spec.run_id
        for name in ("config.json", "provenance.json", "train_log.jsonl", "outputs.txt", "metrics.json",
                     "method/weights.safetensors"):
            assert (run_dir / name).exists(), name
        assert not (run_dir / "checkpoint.pt").exists()
        metrics = json.loads((run_dir / "metrics.json").read_text())
        assert metrics["scale"] == "smoke" and metrics["row"]["method"] == "PREFIX(0.1%)"
        outputs = (run_dir / "outputs.txt").read_text().splitlines()
        assert len(outputs) == metrics["n_eval_inputs"] == 6
        expected_splits = {"webnlg": {"test-all", "test-seen"}, "e2e": {"test"}, "dart": {"test"}}[spec.dataset]
        assert expected_splits <= {s["split"] for s in metrics["scores"]}
        provenance = json.loads((run_dir / "provenance.json").read_text())
        assert provenance["seed"] == 101 and provenance["versions"]["torch"]
    # a finished run is not recomputed
    before = (run_dir / "metrics.json").stat().st_mtime_ns
    run(specs[-1], results, progress=False)
    assert (run_dir / "metrics.json").stat().st_mtime_ns == before


def test_a_different_config_in_the_same_run_directory_is_refused(tmp_path, table2):
    spec = table2.runs("smoke", ["e2e"])[0]
    run_dir = tmp_path / spec.reproduction / spec.scale / spec.run_id
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps({"fingerprint": "something-else"}))
    with pytest.raises(RuntimeError, match="different config"):
        run(spec, tmp_path, progress=False)


def test_config_errors_name_the_fix(tmp_path, table2):
    with pytest.raises(ConfigError, match=r"defines scales \['smoke', 'mini', 'paper'\], not 'huge'"):
        table2.runs("huge")
    with pytest.raises(ConfigError, match="defines datasets"):
        table2.runs("smoke", ["xsum"])
    with pytest.raises(ConfigError, match="known reproductions"):
        load_reproduction("no_such_reproduction")
    bad = tmp_path / "config.yaml"
    text = (table2.path).read_text()
    bad.write_text(text.replace("train: {epochs: 1,", "train: {epoch: 1,"))
    with pytest.raises(ConfigError, match="unknown key.*'epoch'"):
        load_reproduction(str(bad))
    bad.write_text(text.replace("options: {top_layers: 2}", "options: {top_layer: 2}"))
    with pytest.raises(ConfigError, match="top_layer"):
        load_reproduction(str(bad))
    bad.write_text(text.replace("options: {top_layers: 2}", "options: {top_layers: 2}, source_prefix: {wikibio: x}"))
    with pytest.raises(ConfigError, match=r"source_prefix must be a text or \{dataset: text\}"):
        load_reproduction(str(bad))


def test_paper_scale_uses_the_papers_models_and_table6(table2):
    specs = {(s.dataset, s.model_row, s.row): s for s in table2.runs("paper")}
    assert len(specs) == 3 * 7
    prefix = specs[("e2e", "GPT-2 Medium", "PREFIX(0.1%)")]
    assert prefix.model_name == "openai-community/gpt2-medium"  # namespaced: the hub refuses bare ids
    assert prefix.train["learning_rate"] == 8e-5 and prefix.train["batch_size"] == 10 and prefix.train["epochs"] == 5
    assert prefix.options["prefix_length"] == 5 and prefix.options["mid_dim"] == 512
    assert specs[("dart", "GPT-2 Large", "PREFIX")].options["prefix_length"] == 10
    assert prefix.decode["num_beams"] == 5


def test_mini_scale_uses_smollm2_and_per_dataset_limits(table2):
    runs = table2.runs("mini")
    specs = {(s.dataset, s.row, s.seed): s for s in runs}
    # three seeds on the rows the claim compares, one on FT-full and ADAPTER(3%)
    assert len(runs) == 3 * (3 * 3 + 2)
    assert {s.seed for s in runs if s.row == "FT-TOP2"} == {101, 102, 103}
    assert {s.seed for s in runs if s.row == "FINE-TUNE (full)"} == {101}
    ft = specs[("e2e", "FINE-TUNE (full)", 101)]
    assert ft.model_name == "models/smollm2-135m" and ft.model_row == "GPT-2 Medium"
    assert "eval_inputs" not in ft.limits  # all 630 E2E test inputs
    assert specs[("dart", "FINE-TUNE (full)", 101)].limits["eval_inputs"] == 200
    assert specs[("dart", "FINE-TUNE (full)", 101)].train_split == "dev"
    assert specs[("dart", "FINE-TUNE (full)", 101)].train["select_every"] == 0  # trained on dev: no dev selection
    assert specs[("e2e", "FINE-TUNE (full)", 101)].train["select_every"] == 50
    assert specs[("dart", "PREFIX(0.1%)", 101)].options["prefix_length"] == 10
    assert "seeds" not in specs[("e2e", "FINE-TUNE (full)", 101)].train


def test_subsets_are_fixed_and_keep_file_order():
    items = list(range(100))
    assert subset(items, 10) == list(range(10))
    drawn = subset(items, 10, "random")
    assert drawn == sorted(drawn) and len(set(drawn)) == 10 and drawn != list(range(10))
    assert subset(items, 10, "random") == drawn  # the same subset every time (not the run's seed)
    assert subset(items, None, "random") == items and subset(items, 500, "random") == items


def test_limit_and_model_dataset_errors_name_the_choices(tmp_path, table2):
    text = table2.path.read_text()
    bad = tmp_path / "config.yaml"
    bad.write_text(text.replace("eval_inputs: {webnlg: 200, dart: 200}", "eval_inputs: {webnlg: 200, xsum: 5}"))
    with pytest.raises(ConfigError, match=r"limits.eval_inputs names datasets \['xsum'\]"):
        load_reproduction(str(bad))
    bad.write_text(text.replace("eval_subset: random", "eval_subset: shuffled"))
    with pytest.raises(ConfigError, match="eval_subset must be one of"):
        load_reproduction(str(bad))
    text = load_reproduction("prefix_length").path.read_text()
    assert 'model_datasets: {"GPT-2 Medium": [e2e]}' in text
    bad.write_text(text.replace('model_datasets: {"GPT-2 Medium": [e2e]}', 'model_datasets: {"control": [e2e]}', 1))
    with pytest.raises(ConfigError, match="model_datasets"):
        load_reproduction(str(bad))


def test_scratch_model_is_the_architecture_without_the_weights():
    import torch

    from repro.models import load_base_model, load_model_for_run

    pretrained, tokenizer = load_base_model("models/gpt2-mini")
    scratch, scratch_tokenizer = load_model_for_run("scratch:models/gpt2-mini", [], seed=7)
    again, _ = load_model_for_run("scratch:models/gpt2-mini", [], seed=7)
    assert scratch.config.to_dict() == pretrained.config.to_dict()
    assert scratch_tokenizer.get_vocab() == tokenizer.get_vocab()
    w = "transformer.h.0.attn.c_attn.weight"
    assert not torch.equal(scratch.state_dict()[w], pretrained.state_dict()[w])
    assert torch.equal(scratch.state_dict()[w], again.state_dict()[w])  # seeded


@needs_data
def test_dart_scoring_uses_the_official_three_references(table2):
    """Entries with more than 8 references (the METEOR script's limit) score against the first three,
    as the official all-delex-reference{0,1,2}.lex files do."""
    from repro.data import load
    from repro.runner import DART_REFERENCES, score

    many = [ex for ex in load("dart", "test") if len(ex.references) > 8][:2]
    assert many and DART_REFERENCES == 3
    spec = table2.runs("mini", ["dart"])[0]
    scores = {s["metric"]: s["value"] for s in score(spec, [ex.references[2] for ex in many], many)}
    assert scores["BLEU"] == pytest.approx(100.0)  # reference 2 is among the three used
    scores = {s["metric"]: s["value"] for s in score(spec, [ex.references[8] for ex in many], many)}
    assert scores["BLEU"] < 100.0  # reference 8 is not


@needs_data
def test_xsum_runs_are_scored_with_rouge_under_the_registry_names():
    from repro.data import load
    from repro.runner import score

    spec = load_reproduction("table3_xsum").runs("smoke")[0]
    docs = load("xsum", "human_eval")[:3]
    perfect = {s["metric"]: s for s in score(spec, [ex.references[0] for ex in docs], docs)}
    assert sorted(perfect) == ["ROUGE-1", "ROUGE-2", "ROUGE-L"]
    assert all(s["split"] == "test" and s["value"] == pytest.approx(100.0) for s in perfect.values())
    swapped = {s["metric"]: s["value"] for s in score(spec, [docs[1].references[0], docs[2].references[0],
                                                              docs[0].references[0]], docs)}
    assert swapped["ROUGE-2"] < 50.0


@needs_data
def test_superglue_runs_are_scored_on_the_generated_label_word(table2):
    import dataclasses

    from repro.data import load
    from repro.runner import score

    examples = load("cb", "dev")[:6]
    spec = dataclasses.replace(table2.runs("smoke", ["e2e"])[0], dataset="cb", eval_split="dev")
    gold = [ex.meta["label"] for ex in examples]
    right = {s["metric"]: s for s in score(spec, [f" {g}." for g in gold], examples)}
    assert right["acc"]["value"] == pytest.approx(100.0) and right["acc"]["split"] == "dev"
    wrong = [("neutral" if g == "entailment" else "entailment") for g in gold]
    assert {s["metric"]: s["value"] for s in score(spec, wrong, examples)}["acc"] == pytest.approx(0.0)
    half = gold[:3] + wrong[3:]
    assert {s["metric"]: s["value"] for s in score(spec, half, examples)}["acc"] == pytest.approx(50.0)


def test_multirc_runs_are_scored_per_answer_option_and_per_question(table2):
    import dataclasses

    from repro.data.superglue import examples_from_hub
    from repro.runner import score

    # hub-schema rows: paragraph 0, question 0 with answers (True, False), question 1 with (True,)
    rows = [{"idx": {"paragraph": 0, "question": q, "answer": a}, "paragraph": "P.", "question": f"Q{q}?",
             "answer": f"A{a}", "label": label} for q, a, label in [(0, 0, 1), (0, 1, 0), (1, 0, 1)]]
    examples = examples_from_hub("multirc", rows, "dev")
    spec = dataclasses.replace(table2.runs("smoke", ["e2e"])[0], dataset="multirc", eval_split="dev")

    def scored(outputs):
        return {s["metric"]: s["value"] for s in score(spec, outputs, examples)}

    assert scored(["True", "False", "True."]) == {"F1a": pytest.approx(100.0), "EM": pytest.approx(100.0)}
    # one wrong option of question 0: that question fails EM; F1a over options: P = 2/3, R = 1
    assert scored(["True", "True", "True"]) == {"F1a": pytest.approx(80.0), "EM": pytest.approx(50.0)}
    # a non-label answer counts as wrong
    assert scored(["maybe", "False", "True"]) == {"F1a": pytest.approx(200 / 3), "EM": pytest.approx(50.0)}


def test_record_runs_are_scored_against_every_gold_answer(table2):
    import dataclasses

    from repro.config import with_class_labels
    from repro.data.superglue import record_example
    from repro.runner import score

    examples = [record_example("dev", "0-0", "P.", "@placeholder won", ["Ann Lee", "Bo"], ["Ann Lee", "Lee"]),
                record_example("dev", "0-1", "P.", "@placeholder lost", ["Ann Lee", "Bo"], ["Bo"])]
    spec = dataclasses.replace(table2.runs("smoke", ["e2e"])[0], dataset="record", eval_split="dev")

    def scored(outputs):
        return {s["metric"]: s["value"] for s in score(spec, outputs, examples)}

    assert scored([" Lee", "Bo"]) == {"EM": pytest.approx(100.0), "F1": pytest.approx(100.0)}  # any gold answer
    # "the Ann Lee" normalises to "ann lee" (SQuAD: articles dropped); "Bo Lee" shares 1 of 2 tokens with "Bo"
    assert scored(["the Ann Lee", "Bo Lee"]) == {"EM": pytest.approx(50.0), "F1": pytest.approx(100 * (1 + 2 / 3) / 2)}
    # no label words: the class-label init falls back to sampled vocabulary, visibly
    options = with_class_labels("prompt", {"init": "class_labels", "prompt_length": 5}, "record")
    assert options == {"init": "sampled_vocab", "prompt_length": 5}


def test_runs_read_the_data_directory_default_data_in_the_clone(monkeypatch, tmp_path):
    from repro.runner import data_dir, data_source

    monkeypatch.setenv("REPRO_DATA_DIR", str(tmp_path))
    assert data_source() == "local" and data_dir() == tmp_path
    monkeypatch.delenv("REPRO_DATA_DIR")
    from repro.data.fetch import clone_root

    assert data_dir() == clone_root() / "data"


@needs_data
def test_check_data_exits_3_naming_the_missing_files(capsys):
    from repro.cli import main
    from repro.runner import DATA_MISSING_EXIT

    assert main(["run", "--reproduction", "table3_xsum", "--scale", "smoke", "--check-data"]) == 0
    assert "xsum/hf_fixture (local): 10 inputs" in capsys.readouterr().out
    assert main(["run", "--reproduction", "table3_xsum", "--scale", "mini", "--check-data"]) == DATA_MISSING_EXIT
    err = capsys.readouterr().err
    assert "xsum/parquet/default/train" in err and "`repro data fetch xsum --split train`" in err


@needs_data
def test_low_data_grid_follows_table8_and_samples_fixed_training_sets():
    from repro.data import load, training_pairs
    from repro.methods import ConfigError
    from repro.runner import dev_pairs, load_data, registry_dataset

    specs = load_reproduction("low_data").runs("mini")
    assert len(specs) == 4 * 3 * 2 and len({s.run_id for s in specs}) == len(specs)  # sizes x samples x rows
    steps = {(s.row, s.limits["lowdata_size"]): s.train["max_steps"] for s in specs}
    assert steps == {("PREFIX", 50): 200, ("PREFIX", 100): 200, ("PREFIX", 200): 200, ("PREFIX", 500): 400,
                     ("FINE-TUNE", 50): 100, ("FINE-TUNE", 100): 100, ("FINE-TUNE", 200): 200, ("FINE-TUNE", 500): 400}
    first, second, _ = [s for s in specs if s.row == "PREFIX" and s.limits["lowdata_size"] == 50]
    assert registry_dataset(first) == "E2E (n=50)" and first.run_id.endswith("-n50-sample0-seed101")
    pairs_a, evaluation = load_data(first)
    pairs_b, _ = load_data(second)
    everything = set(training_pairs(load("e2e", "train")))
    assert len(pairs_a) == len(pairs_b) == 50 and set(pairs_a) <= everything
    assert pairs_a != pairs_b and load_data(first)[0] == pairs_a  # two samples, each fixed
    assert len(evaluation) == 200
    # the run selects on the sample's own dev set: round(0.3 * 50) = 15 pairs, none of them trained on
    assert first.train["select_every"] == 50
    dev = dev_pairs(first)
    assert len(dev) == 15 and not set(dev) & set(pairs_a) and set(dev) <= everything
    assert dev != dev_pairs(second)
    # a run outside the low-data protocol selects on select_inputs random inputs of its select_split
    table2 = next(s for s in load_reproduction("table2_table_to_text").runs("mini") if s.dataset == "e2e")
    dev = dev_pairs(table2)
    chosen = subset(load("e2e", "dev"), 20, "random")
    assert dev == training_pairs(chosen) and len(chosen) == 20 and not set(dev) & everything
    paper = load_reproduction("low_data").runs("paper")
    assert len(paper) == 2 * 4 * 5 * 2 * 2  # datasets x sizes x samples x seeds x rows: the paper's grid


def test_low_data_samples_of_one_seed_are_separate_replicates(tmp_path):
    import json

    from repro.reporting.report import collect_runs, replicate

    root = tmp_path / "low_data" / "mini"
    for sample in (0, 1):
        run = root / f"e2e-n50-sample{sample}-seed101"
        run.mkdir(parents=True)
        (run / "metrics.json").write_text(json.dumps({
            "reproduction": "low_data", "scale": "mini", "seed": 101, "sample": sample, "model_name": "m",
            "row": {"dataset": "E2E (n=50)", "model": "GPT-2 Medium", "method": "PREFIX"},
            "scores": [{"split": "test", "metric": "BLEU", "value": 10.0 + sample}]}))
    runs = collect_runs(tmp_path, "low_data", "mini").finished
    assert sorted(replicate(r) for r in runs) == ["0/101", "1/101"]
    from repro.reporting.report import aggregate

    _, frame = aggregate(tmp_path, "low_data", "mini", load_reproduction("low_data").raw["compare_to"])
    assert frame.loc[0, "n seeds"] == 2 and frame.iloc[0, list(frame.columns).index("seeds")] == "0/101 1/101"


def test_new_config_blocks_refuse_bad_input_naming_the_fix():
    import copy

    from repro.config import validate

    base = load_reproduction("low_data").raw
    bad = copy.deepcopy(base)
    bad["decode"]["webnlg"] = {"num_beams": 2}
    with pytest.raises(ConfigError, match="per-dataset blocks \\['webnlg'\\].*defines \\['e2e', 'xsum'\\]"):
        validate(bad, "low_data")
    bad = copy.deepcopy(base)
    bad["scales"]["mini"]["lowdata"]["sets"] = 3
    with pytest.raises(ConfigError, match="unknown key\\(s\\) \\['sets'\\].*'samples'"):
        validate(bad, "low_data")
    bad = copy.deepcopy(base)
    bad["scales"]["mini"]["lowdata"]["train"]["e2e"]["PREFIX"][1000] = {"max_steps": 5}
    with pytest.raises(ConfigError, match="sizes among \\[50, 100, 200, 500\\]"):
        validate(bad, "low_data")
    bad = copy.deepcopy(load_reproduction("prompt_ensembling").raw)
    bad["ensemble"] = {"size": 5, "rows": {"average": "x", "vote": "y"}}
    with pytest.raises(ConfigError, match="ensemble needs exactly"):
        validate(bad, "prompt_ensembling")


def test_wsc_runs_are_scored_by_the_referent_match(table2):
    import dataclasses

    from repro.config import with_class_labels
    from repro.data.superglue import wsc_examples
    from repro.runner import score

    span = {"text": "Mitchell asked Tom if he could lend some money.", "span2_index": 4, "span2_text": "he"}
    examples = wsc_examples("dev", [(0, {**span, "span1_text": "Tom"}, 1), (1, {**span, "span1_text": "Mitchell"}, 0)])
    spec = dataclasses.replace(table2.runs("smoke", ["e2e"])[0], dataset="wsc", eval_split="dev")
    assert score(spec, ["Tom", "Tom"], examples) == [{"split": "dev", "metric": "acc", "value": pytest.approx(100.0)}]
    assert score(spec, ["Mitchell", "Mitchell"], examples)[0]["value"] == pytest.approx(0.0)
    options = with_class_labels("prompt", {"init": "class_labels", "prompt_length": 5}, "wsc")
    assert options == {"init": "sampled_vocab", "prompt_length": 5}


@needs_data
def test_a_run_selecting_on_its_dev_metric_ends_with_the_state_it_selected(tmp_path):
    """select_metric "task" on CB (the mean of acc and F1, Lester §3): the value logged at the selected
    step is the finished run's mean of the two, since selection decodes the same dev examples the same way."""
    import dataclasses

    spec = load_reproduction("prompt_init").runs("smoke", ["cb"])[0]
    spec = dataclasses.replace(spec, train={**spec.train, "max_steps": 4, "select_every": 1, "select_metric": "task",
                                            "select_split": "dev", "select_inputs": 4})
    run_dir = run(spec, tmp_path, progress=False)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    log = [json.loads(line) for line in (run_dir / "train_log.jsonl").read_text().splitlines()]
    scored = {line["step"]: line["dev_mean(acc,F1)"] for line in log if line["event"] == "dev"}
    assert sorted(scored) == [1, 2, 3, 4]
    assert metrics["selected_step"] == max(scored, key=lambda step: (scored[step], -step))  # first best
    values = {s["metric"]: s["value"] for s in metrics["scores"]}
    assert (values["acc"] + values["F1"]) / 2 == pytest.approx(scored[metrics["selected_step"]])
    bad = dataclasses.replace(spec, train={**spec.train, "select_metric": "BLEU"})
    with pytest.raises(ConfigError, match="'BLEU'.*scored with, \\['F1', 'acc'\\]"):
        run(bad, tmp_path / "bad", progress=False)


@needs_data
def test_a_run_that_another_reproduction_computed_is_linked_not_recomputed(tmp_path):
    """Two reproductions whose rows differ only in their labels share one run: the second holds its own
    config.json and links to the first's files, trains nothing, and its scores are the first's."""
    import yaml

    from repro.config import REPRODUCTIONS_DIR

    raw = yaml.safe_load((REPRODUCTIONS_DIR / "prefix_vs_infix" / "config.yaml").read_text())
    raw["rows"] = {"PREFIX": raw["rows"]["PREFIX"]}
    raw["models"] = {"GPT-2 Medium": ["PREFIX"]}
    raw["claims"] = []
    configs = {}
    for name, label in (("first", "PREFIX"), ("second", "PREFIX-5")):
        twin = json.loads(json.dumps(raw))
        twin["name"] = name
        twin["rows"] = {label: raw["rows"]["PREFIX"]}
        twin["models"] = {"GPT-2 Medium": [label]}
        (tmp_path / name).mkdir()
        configs[name] = tmp_path / name / "config.yaml"
        configs[name].write_text(yaml.safe_dump(twin))
    results = tmp_path / "results"
    first = load_reproduction(str(configs["first"])).runs("smoke")[0]
    second = load_reproduction(str(configs["second"])).runs("smoke")[0]
    assert first.compute_key() == second.compute_key() and first.fingerprint() != second.fingerprint()
    computed = run(first, results, progress=False)
    linked = run(second, results, progress=False)
    assert linked == results / "second" / "smoke" / second.run_id
    assert json.loads((linked / "config.json").read_text())["row"] == "PREFIX-5"  # its own labels
    for name in ("outputs.txt", "train_log.jsonl", "method", "provenance.json"):
        assert (linked / name).is_symlink() and (linked / name).resolve() == (computed / name).resolve()
    mine, theirs = (json.loads((d / "metrics.json").read_text()) for d in (linked, computed))
    assert mine["scores"] == theirs["scores"] and mine["row"]["method"] == "PREFIX-5" and mine["reproduction"] == "second"
    from repro.reporting.compute import run_costs
    assert set(run_costs(results, "smoke")) == {"first"}  # computed once, counted once
    assert json.loads((linked / "shared.json").read_text())["computed_in"] == "../../../first/smoke/" + first.run_id
    # a forced recompute of the linked run drops the links and never writes through them
    before = (computed / "outputs.txt").read_text()
    run(second, results, force=True, progress=False)
    assert not (linked / "shared.json").exists() and not (linked / "outputs.txt").is_symlink()
    assert (computed / "outputs.txt").read_text() == before


@needs_data
def test_a_run_stopped_while_decoding_resumes_at_decoding(tmp_path, table2):
    """Trained, artifact saved, stopped before its metrics: the rerun decodes the saved artifact and does
    not train again (the training log keeps one start and one end), with the same outputs."""
    spec = next(s for s in table2.runs("smoke", ["e2e"]) if s.row == "PREFIX(0.1%)")
    run_dir = run(spec, tmp_path, progress=False)
    outputs = (run_dir / "outputs.txt").read_text()
    log = (run_dir / "train_log.jsonl").read_text()
    for name in ("metrics.json", "outputs.txt", "provenance.json"):
        (run_dir / name).unlink()
    run(spec, tmp_path, progress=False)
    assert (run_dir / "train_log.jsonl").read_text() == log
    assert (run_dir / "outputs.txt").read_text() == outputs
    assert json.loads((run_dir / "provenance.json").read_text())["train"]["resumed_at"] == "decoding"
