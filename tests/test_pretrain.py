"""repro.pretrain: corpus split, tokenizer, BART noising, the training loop (determinism, resume,
export), evaluation and bad-input errors. Tiny recipes on a small slice of the real corpus."""
import json
import math
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

from repro.pretrain import PretrainError
from repro.pretrain.corpus import is_heldout, load_corpus, split_paragraphs
from repro.pretrain.denoise import bart_noise, permute_sentences, split_sentences, text_infilling, token_masking
from repro.pretrain.recipes import BART_MINI, GPT2_MINI, get_recipe

MASK = -1  # a mask id distinct from every input id in the denoising tests
# Tiny models run with 1 thread: with 2 threads on a shared 2-core machine, thread synchronisation
# makes each millisecond-sized op up to 10x slower. (Determinism holds for any fixed thread count.)
LINES_PER_FILE = 50


def _corpus_dir() -> Path:
    return Path(os.environ.get("REPRO_CORPUS_DIR", Path(__file__).resolve().parents[2] / "shared" / "corpus"))


@pytest.fixture(scope="module")
def corpus_slice(tmp_path_factory) -> Path:
    """The first LINES_PER_FILE lines of every file of the real corpus (~0.6 MB)."""
    src = _corpus_dir()
    if not any(src.glob("*.txt")):
        pytest.skip(f"no pretraining corpus at {src} (set REPRO_CORPUS_DIR)")
    dst = tmp_path_factory.mktemp("corpus")
    for f in sorted(src.glob("*.txt")):
        with open(f, encoding="utf-8") as fin:
            lines = [next(fin, "") for _ in range(LINES_PER_FILE)]
        (dst / f.name).write_text("".join(lines), encoding="utf-8")
    return dst


# ---------------------------------------------------------------- corpus

def test_holdout_is_one_percent_and_depends_only_on_the_text():
    paragraphs = [f"Paragraph number {i} of a synthetic corpus." for i in range(20000)]
    train, valid = split_paragraphs(paragraphs)
    assert len(train) + len(valid) == len(paragraphs)
    assert 0.008 < len(valid) / len(paragraphs) < 0.012
    shuffled = list(np.random.default_rng(0).permutation(paragraphs))
    assert set(split_paragraphs(shuffled)[1]) == set(valid)  # order does not matter
    assert all(is_heldout(p) for p in valid) and not any(is_heldout(p) for p in train)


def test_corpus_slice_loads_with_manifest(corpus_slice):
    corpus = load_corpus(corpus_slice)
    assert corpus.train and corpus.valid
    assert not set(corpus.train) & set(corpus.valid)
    names = [e["file"] for e in corpus.manifest["files"]]
    assert names == sorted(p.name for p in corpus_slice.glob("*.txt"))
    assert corpus.manifest["train_paragraphs"] + corpus.manifest["valid_paragraphs"] == \
        sum(e["paragraphs"] for e in corpus.manifest["files"])


def test_missing_or_empty_corpus_names_the_fix(tmp_path, monkeypatch):
    with pytest.raises(PretrainError, match="does not exist.*REPRO_CORPUS_DIR"):
        load_corpus(tmp_path / "nope")
    with pytest.raises(PretrainError, match=r"no \*\.txt files"):
        load_corpus(tmp_path)
    (tmp_path / "a.txt").write_text("\n\n   \n")
    with pytest.raises(PretrainError, match="non-empty"):
        load_corpus(tmp_path)
    monkeypatch.delenv("REPRO_CORPUS_DIR", raising=False)
    with pytest.raises(PretrainError, match="REPRO_CORPUS_DIR"):
        load_corpus(None)


def test_hub_corpus_is_lazy_and_reports_offline_failure(monkeypatch):
    """A stand-in `datasets` module: no download is ever attempted by the tests."""
    import sys
    import types

    calls = []
    rows = [" = Valkyria Chronicles = ", "", " The game began development in 2010 . ", " = = Plot = = "] + \
        [f" Paragraph {i} of the article . " for i in range(500)]

    def load_dataset(path, config, split):
        calls.append((path, config, split))
        return {"text": rows}

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=load_dataset))
    corpus = load_corpus("wikitext-103")
    assert calls == [("Salesforce/wikitext", "wikitext-103-raw-v1", "train")]
    assert len(corpus.train) + len(corpus.valid) == 501  # headings and blank lines dropped
    assert "The game began development in 2010 ." in corpus.train + corpus.valid

    def offline(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'wikitext' on the Hub (OfflineModeIsEnabled)")

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=offline))
    with pytest.raises(PretrainError, match="Offline, use a local corpus"):
        load_corpus("wikitext-103")


# ---------------------------------------------------------------- tokenizer

@pytest.fixture(scope="module")
def bpe(corpus_slice):
    from repro.tiny_tokenizer import train_bpe

    return train_bpe(load_corpus(corpus_slice).train, 512)


TEXTS = ["The jury said Friday an investigation of Atlanta's primary produced \"no evidence\".",
         "  two  spaces, a tab\tand a newline\nhere", "naïve café – 東京 😀", ""]


def test_tokenizer_round_trip_and_autotokenizer(bpe, tmp_path):
    from transformers import AutoTokenizer

    from repro.tiny_tokenizer import make_tokenizer

    make_tokenizer(bpe, "gpt2", 64).save_pretrained(tmp_path / "g")
    make_tokenizer(bpe, "bart", 64).save_pretrained(tmp_path / "b")
    g = AutoTokenizer.from_pretrained(tmp_path / "g")
    b = AutoTokenizer.from_pretrained(tmp_path / "b")
    assert type(g).__name__ == "GPT2Tokenizer"
    assert type(b).__name__ in {"BartTokenizer", "RobertaTokenizer"}  # BartTokenizer is an alias in transformers 5
    assert len(g) == len(b) == 512
    for text in TEXTS:
        ids = g(text)["input_ids"]
        assert g.decode(ids) == text
        assert b(text)["input_ids"] == [b.bos_token_id, *ids, b.eos_token_id]  # same BPE, BART adds <s> </s>
        assert b.decode(b(text)["input_ids"], skip_special_tokens=True) == text
    # GPT-2 conventions: <|endoftext|> is bos = eos, no pad token
    assert g.bos_token == g.eos_token == "<|endoftext|>" and g.pad_token is None
    assert g("<|endoftext|>")["input_ids"] == [g.eos_token_id]
    # BART conventions: <s>=0 <pad>=1 </s>=2 as in BartConfig's defaults; <mask> is one token
    assert (b.bos_token_id, b.pad_token_id, b.eos_token_id) == (0, 1, 2)
    assert b.convert_ids_to_tokens(b("a <mask> b")["input_ids"]).count("<mask>") == 1


def test_vocab_too_large_for_corpus_names_the_fix():
    from repro.tiny_tokenizer import TokenizerTrainingError, train_bpe

    with pytest.raises(TokenizerTrainingError, match="too small for a vocabulary of 8192.*smaller vocab_size"):
        train_bpe(["a tiny corpus", "with two lines"], 8192)


# ---------------------------------------------------------------- BART noising

def _parse_infilled(original: list[int], noised: list[int]):
    """Kept tokens must be a subsequence of `original`; returns (removed runs, masks per gap)."""
    kept = [t for t in noised if t != MASK]
    pos = {t: i for i, t in enumerate(original)}
    idx = [pos[t] for t in kept]
    assert idx == sorted(idx) and len(set(idx)) == len(idx), "kept tokens must stay in order"
    # walk: for each gap between kept tokens, count masks and removed original tokens
    gaps, masks, prev = [], 0, -1
    for t in noised + [None]:
        if t == MASK:
            masks += 1
            continue
        nxt = len(original) if t is None else pos[t]
        gaps.append((nxt - prev - 1, masks))
        masks, prev = 0, nxt
    return gaps


def test_text_infilling_masks_30_percent_in_spans_of_one_mask_each():
    n = 20000
    original = list(range(n))
    noised = text_infilling(original, MASK, np.random.default_rng(0), mask_ratio=0.3, poisson_lambda=3.0)
    gaps = _parse_infilled(original, noised)
    removed = sum(r for r, _ in gaps)
    assert removed == round(0.3 * n)
    assert all(m <= 1 for _, m in gaps), "at most one mask between two kept tokens"
    assert all(m == 1 for r, m in gaps if r > 0), "every removed run is replaced by exactly one mask"
    # span lengths ~ Poisson(3): non-empty spans have mean 3 / (1 - e^-3) = 3.157;
    # 0-length spans (pure insertions) are a fraction e^-3 = 0.0498 of all spans
    spans = [r for r, m in gaps if m == 1]
    nonzero = [r for r in spans if r > 0]
    assert abs(np.mean(nonzero) - 3 / (1 - math.exp(-3))) < 0.15
    assert abs(spans.count(0) / len(spans) - math.exp(-3)) < 0.02


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 8, 40])
def test_text_infilling_short_inputs(n):
    for seed in range(30):
        original = list(range(n))
        noised = text_infilling(original, MASK, np.random.default_rng(seed))
        gaps = _parse_infilled(original, noised)
        assert sum(r for r, _ in gaps) == round(0.3 * n)
        assert all(m == 1 for r, m in gaps if r > 0) and all(m <= 1 for _, m in gaps)


@pytest.mark.parametrize("n", [0, 1, 7, 1000])
def test_token_masking_keeps_positions_and_masks_30_percent(n):
    original = list(range(10, 10 + n))
    noised = token_masking(original, MASK, np.random.default_rng(n))
    assert len(noised) == n
    masked = [i for i, t in enumerate(noised) if t == MASK]
    assert len(masked) == round(0.3 * n)
    assert all(noised[i] == original[i] for i in range(n) if i not in masked)  # aligned with the target
    if n == 1000:  # spread over the whole input, not a span
        assert 0.2 < np.mean([i < 500 for i in masked]) < 0.8


def test_bart_noise_dispatches_and_refuses_unknown_noise():
    sents = [[11, 12, 13], [14, 15, 16, 17]]
    assert bart_noise(sents, MASK, np.random.default_rng(1), permute=False, noise="token_masking") == \
        token_masking([11, 12, 13, 14, 15, 16, 17], MASK, np.random.default_rng(1))
    with pytest.raises(ValueError, match="text_infilling.*token_masking"):
        bart_noise(sents, MASK, np.random.default_rng(1), noise="rotation")


def test_text_infilling_is_a_function_of_the_generator():
    ids = list(range(500))
    a = text_infilling(ids, MASK, np.random.default_rng([7, 3]))
    assert a == text_infilling(ids, MASK, np.random.default_rng([7, 3]))
    assert a != text_infilling(ids, MASK, np.random.default_rng([7, 4]))


def test_sentence_permutation_keeps_the_multiset_of_sentences():
    sentences = [[1000 * k + j for j in range(1 + k % 4)] for k in range(12)]  # first token marks the sentence
    orders = set()
    for seed in range(20):
        out = permute_sentences(sentences, np.random.default_rng(seed))
        parts, cur = [], []
        for t in out:
            if t % 1000 == 0 and cur:
                parts.append(cur)
                cur = []
            cur.append(t)
        parts.append(cur)
        assert Counter(map(tuple, parts)) == Counter(map(tuple, sentences))
        orders.add(tuple(p[0] for p in parts))
    assert len(orders) > 15  # really shuffled


def test_split_sentences():
    assert split_sentences("He left. she stayed!  Did he? \"Yes.\" Then (quietly) no.") == \
        ["He left.", "she stayed!", "Did he?", "\"Yes.\"", "Then (quietly) no."]
    assert split_sentences("no end punctuation") == ["no end punctuation"]


# ---------------------------------------------------------------- recipes

def test_mini_recipes_fit_the_30mb_budget():
    from repro.pretrain.train import count_parameters

    total = 0
    for recipe in (GPT2_MINI, BART_MINI):
        with torch.device("meta"):
            model = recipe.build_model()
        total += count_parameters(model)["total"]
        assert recipe.vocab_size == 8192 and recipe.seq_len >= 256
    tokenizers = 2 * 0.6e6  # tokenizer.json of an 8k BPE is ~0.55 MB
    assert 2 * total + tokenizers < 30e6, f"{total} parameters in fp16 exceed 30 MB"


def test_unigram_baseline_add_one_by_hand():
    from repro.pretrain.evaluate import unigram_perplexity

    # counts (3, 1, 0), V = 3, N = 4: p(0) = 4/7, p(2) = 1/7; ppl = (7/4 * 7)^(1/2) = 3.5
    out = unigram_perplexity(torch.tensor([3.0, 1.0, 0.0]), torch.tensor([0, 2]))
    assert out["tokens"] == 2 and out["ppl"] == pytest.approx(3.5)


# ---------------------------------------------------------------- training

@pytest.fixture(scope="module")
def gpt2_run(corpus_slice, tmp_path_factory):
    """One uninterrupted gpt2-tiny run through the CLI, keeping its final checkpoint."""
    from repro.pretrain.cli import main

    out = tmp_path_factory.mktemp("runs") / "gpt2"
    fig = out.parent / "gpt2.png"
    assert main(["--recipe", "gpt2-tiny", "--out", str(out), "--corpus", str(corpus_slice), "--figure", str(fig),
                 "--keep-checkpoint", "--no-progress", "--threads", "1"]) == 0
    return out, fig


def _log(out: Path, event: str) -> list[dict]:
    rows = [json.loads(line) for line in (out / "training_log.jsonl").read_text().splitlines()]
    return [r for r in rows if r["event"] == event]


def test_gpt2_tiny_loss_goes_down(gpt2_run):
    out, fig = gpt2_run
    train, evals = _log(out, "train"), _log(out, "eval")
    assert train[-1]["loss"] < train[0]["loss"] - 0.3
    assert evals[-1]["val_loss"] < evals[0]["val_loss"] - 0.2
    assert [r["step"] for r in train] == list(range(2, 25, 2))
    assert fig.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "python -m repro.pretrain --recipe gpt2-tiny" in (out / "command.txt").read_text()


def test_gpt2_export_loads_with_auto_classes(gpt2_run):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out, _ = gpt2_run
    metrics = json.loads((out / "metrics.json").read_text())
    tok = AutoTokenizer.from_pretrained(out)
    model = AutoModelForCausalLM.from_pretrained(out)
    assert type(model).__name__ == "GPT2LMHeadModel" and model.dtype == torch.float32
    trained = torch.load(out / "checkpoint.pt", weights_only=True)["model"]
    dtype = getattr(torch, metrics["fp16_check"]["saved_dtype"])
    for name, p in model.state_dict().items():
        assert torch.equal(p, trained[name].to(dtype).float()), name
    assert metrics["fp16_check"]["abs_delta"] <= metrics["fp16_check"]["tolerance"] or dtype == torch.float32
    assert model.config.resid_pdrop == 0.1  # export_dropout
    ids = tok("The jury said", return_tensors="pt").input_ids
    gen = model.generate(ids, max_new_tokens=5, do_sample=False, pad_token_id=tok.eos_token_id)
    assert gen.shape == (1, ids.shape[1] + 5)
    v = metrics["validation"]
    start = _log(out, "start")[0]
    assert v["model"]["tokens"] == v["unigram"]["tokens"] == start["valid_blocks"] * (32 - 1)


def test_killed_and_resumed_run_is_bit_identical(gpt2_run, corpus_slice, tmp_path):
    from repro.pretrain.train import train

    recipe = get_recipe("gpt2-tiny")
    out = tmp_path / "gpt2"
    # "killed" after step 11: the last checkpoint is at step 8, so steps 9-11 are redone
    first = train(recipe, out, corpus_slice, stop_after=11, progress=False, threads=1)
    assert not first.finished and torch.load(out / "checkpoint.pt", weights_only=True)["step"] == 8
    (out / "checkpoint.pt.tmp").write_bytes(b"half-written by a process killed while saving")
    resumed = train(recipe, out, corpus_slice, resume=True, progress=False, keep_checkpoint=True, threads=1)
    assert resumed.finished
    reference = torch.load(gpt2_run[0] / "checkpoint.pt", weights_only=True)["model"]
    state = resumed.model.state_dict()
    assert state.keys() == reference.keys()
    assert all(torch.equal(state[k], reference[k]) for k in state)
    assert (out / "model.safetensors").read_bytes() == (gpt2_run[0] / "model.safetensors").read_bytes()
    steps = [r["step"] for r in _log(out, "train")]
    assert steps == sorted(set(steps)), "redone steps must not be logged twice"


def test_bart_tiny_trains_and_exports(corpus_slice, tmp_path):
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    from repro.pretrain.train import train

    out = tmp_path / "bart"
    result = train(get_recipe("bart-tiny"), out, corpus_slice, progress=False, threads=1)
    train_rows = _log(out, "train")
    # it starts at the unigram level (the output bias), and goes below it
    assert train_rows[-1]["loss"] < train_rows[0]["loss"]
    assert result.metrics["validation"]["model"]["loss"] < result.metrics["validation"]["unigram"]["loss"]
    assert not (out / "checkpoint.pt").exists()  # removed after the export by default
    tok = AutoTokenizer.from_pretrained(out)
    model = AutoModelForSeq2SeqLM.from_pretrained(out)
    assert type(model).__name__ == "BartForConditionalGeneration" and model.dtype == torch.float32
    assert (tok.pad_token_id, model.config.pad_token_id, model.config.decoder_start_token_id) == (1, 1, 2)
    assert tok.mask_token == "<mask>"
    # the output bias is the training unigram distribution, saved and loaded with the model
    bias = model.final_logits_bias[0].double()
    assert torch.logsumexp(bias, 0).item() == pytest.approx(0.0, abs=1e-3)
    assert bias[tok.convert_tokens_to_ids("Ġthe")] > bias.median() + 2  # a frequent token
    batch = tok(["The jury <mask> Friday."], return_tensors="pt")
    gen = model.generate(**batch, max_new_tokens=4, num_beams=2, do_sample=False)
    assert gen.shape[0] == 1
    v = result.metrics["validation"]
    assert v["model"]["tokens"] == v["unigram"]["tokens"] > 0 and v["model_mask_only_source"]["tokens"] > 0
    from repro.reporting.figures import plot_training_curve

    assert plot_training_curve(out / "training_log.jsonl", tmp_path / "bart.png").read_bytes()[:4] == b"\x89PNG"


# ---------------------------------------------------------------- bad output directories

def test_output_dir_with_a_different_model_is_refused(gpt2_run, corpus_slice):
    from repro.pretrain.train import train

    out = gpt2_run[0]
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(PretrainError, match="different model.*another --out"):
        train(get_recipe("bart-tiny"), out, corpus_slice, resume=True, progress=False)
    with pytest.raises(PretrainError, match="different model.*max_steps"):
        train(get_recipe("gpt2-tiny").with_(max_steps=30), out, corpus_slice, resume=True, progress=False)
    with pytest.raises(PretrainError, match="finished run.*--resume"):
        train(get_recipe("gpt2-tiny"), out, corpus_slice, progress=False)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing touched


def test_resuming_on_a_different_corpus_is_refused(gpt2_run, corpus_slice, tmp_path):
    from repro.pretrain.train import train

    other = tmp_path / "other"
    other.mkdir()
    for f in sorted(corpus_slice.glob("*.txt"))[1:]:  # one file fewer
        (other / f.name).write_bytes(f.read_bytes())
    with pytest.raises(PretrainError, match="different corpus"):
        train(get_recipe("gpt2-tiny"), gpt2_run[0], other, resume=True, progress=False)


def test_evaluate_pretrained_matches_the_training_report(gpt2_run, corpus_slice):
    from repro.pretrain.evaluate import evaluate_pretrained

    out = gpt2_run[0]
    metrics = json.loads((out / "metrics.json").read_text())["validation"]
    again = evaluate_pretrained(out, corpus_slice)  # via AutoTokenizer / AutoModelForCausalLM
    assert again["model"]["tokens"] == metrics["model"]["tokens"]
    assert again["model"]["loss"] == pytest.approx(metrics["model"]["loss"], abs=1e-3)  # fp16 export tolerance
    assert again["unigram"] == pytest.approx(metrics["unigram"])


def test_resuming_a_finished_run_changes_nothing(gpt2_run, corpus_slice):
    from repro.pretrain.train import train

    out = gpt2_run[0]
    weights = (out / "model.safetensors").read_bytes()
    result = train(get_recipe("gpt2-tiny"), out, corpus_slice, resume=True, progress=False)
    assert result.finished and (out / "model.safetensors").read_bytes() == weights


def test_unrelated_output_dir_and_bad_corpus_via_cli(tmp_path, corpus_slice, capsys):
    from repro.pretrain.cli import main

    (tmp_path / "notes.txt").write_text("mine")
    assert main(["--recipe", "gpt2-tiny", "--out", str(tmp_path), "--corpus", str(corpus_slice)]) == 2
    assert "not empty and holds no pretraining run" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine" and len(list(tmp_path.iterdir())) == 1
    assert main(["--recipe", "gpt2-tiny", "--out", str(tmp_path / "new"), "--corpus", str(tmp_path / "none")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()
