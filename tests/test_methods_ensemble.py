"""Prompt ensembling: K prompts in one batched pass give exactly what each prompt gives alone."""
import pytest
import torch

from conftest import needs_data
from repro import methods
from repro.methods import ConfigError, PromptConfig, PromptTuning
from repro.methods.ensemble import PromptEnsemble, majority_vote, stack_prompts
from repro.models import tiny_bart, tiny_decoder, tiny_gpt2, tiny_t5


def _members(model, k):
    tuners = []
    for seed in range(k):
        torch.manual_seed(seed)
        tuners.append(PromptTuning(model, PromptConfig(prompt_length=3, init="random_normal")).eval())
    return tuners


@pytest.mark.parametrize("kind", ["gpt2", "llama", "qwen2", "bart", "t5"])
@pytest.mark.parametrize("num_beams", [1, 2])
def test_one_batched_pass_equals_each_prompt_alone(kind, num_beams):
    model = {"gpt2": lambda: tiny_gpt2(initializer_range=0.5), "bart": lambda: tiny_bart(init_std=0.5),
             "llama": lambda: tiny_decoder("llama", initializer_range=0.5),
             "qwen2": lambda: tiny_decoder("qwen2", initializer_range=0.5),
             "t5": lambda: tiny_t5(initializer_factor=5.0)}[kind]()
    decoder = kind in ("gpt2", "llama", "qwen2")
    members = _members(model, 3)
    ensemble = PromptEnsemble(model, torch.stack([m.prompt().detach() for m in members]))
    ids = torch.randint(3, 60, (2, 5), generator=torch.Generator().manual_seed(4))
    mask = torch.ones_like(ids)
    if decoder:
        mask[1, :2] = 0  # left padding
    else:
        mask[1, 3:] = 0
    gen = dict(num_beams=num_beams, max_new_tokens=4, min_new_tokens=4, do_sample=False)
    if decoder:
        gen.update(pad_token_id=63, eos_token_id=63)
    together = ensemble.generate(ids, mask, **gen)
    assert together.shape[0] == 2 * 3
    for k, member in enumerate(members):
        alone = member.generate(ids, mask, **gen)
        assert torch.equal(together[k::3], alone), f"prompt {k}"


def test_members_load_from_saved_runs(tmp_path):
    model = tiny_bart(init_std=0.5)
    members = _members(model, 2)
    dirs = [methods.save(m, tmp_path / f"m{i}") for i, m in enumerate(members)]
    prompts = stack_prompts(model, dirs)
    assert prompts.shape == (2, 3, 16)
    assert torch.equal(prompts[1], members[1].prompt().detach())
    torch.manual_seed(0)
    longer = PromptTuning(model, PromptConfig(prompt_length=4))
    with pytest.raises(ConfigError, match="different prompt shapes"):
        stack_prompts(model, dirs + [methods.save(longer, tmp_path / "long")])


def test_majority_vote_and_ties():
    votes = majority_vote([["a", "b", "c"], ["a", "c", "b"], ["b", "c", "a"]])
    assert votes == ["a", "c", "c"]  # two votes each for a and c; the third input is a three-way tie
    assert majority_vote([["x", "y"], ["y", "y"]]) == ["x", "y"]  # tie: the lower-numbered prompt's label
    with pytest.raises(ValueError):
        majority_vote([["a"], ["a", "b"]])


@needs_data
@pytest.mark.slow
def test_ensemble_stage_writes_the_three_table3_rows_from_finished_runs(tmp_path):
    """Smoke prompt_ensembling: five prompt runs, then `repro ensemble`: the batched pass reproduces
    each member's own decoded labels, the vote is their majority, the average their mean."""
    import json
    import statistics

    from repro.cli import main
    from repro.runner import normalize_label

    args = ["--reproduction", "prompt_ensembling", "--scale", "smoke", "--results-dir", str(tmp_path)]
    assert main(["run", *args, "--no-progress"]) == 0
    assert main(["ensemble", *args, "--no-progress"]) == 0
    root = tmp_path / "prompt_ensembling" / "smoke"
    members = [root / f"cb-tiny-bart-prompt-seed{s}" for s in range(101, 106)]
    vote_dir = root / "cb-tiny-bart-prompt-ensemble1-vote"
    per_prompt = json.loads((vote_dir / "member_outputs.json").read_text())
    for member, batched in zip(members, per_prompt):
        alone = [normalize_label(line) for line in (member / "outputs.txt").read_text().split("\n")[:-1]]
        assert batched == alone, member.name
    assert (vote_dir / "outputs.txt").read_text().split("\n")[:-1] == majority_vote(per_prompt)
    metrics = {kind: json.loads((root / f"cb-tiny-bart-prompt-ensemble1-{kind}" / "metrics.json").read_text())
               for kind in ("average", "best", "vote")}
    accs = [next(s["value"] for s in json.loads((m / "metrics.json").read_text())["scores"] if s["metric"] == "acc")
            for m in members]
    acc = {k: next(s["value"] for s in m["scores"] if s["metric"] == "acc") for k, m in metrics.items()}
    assert acc["average"] == pytest.approx(statistics.fmean(accs)) and acc["best"] == max(accs)
    assert metrics["vote"]["row"]["method"] == "5-prompt ensemble (majority vote)"
    assert metrics["vote"]["ensemble"]["member_seeds"] == [101, 102, 103, 104, 105]
