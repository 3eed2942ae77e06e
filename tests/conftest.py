"""Shared test setup: offline hub, the shared data directory, tiny models and a tiny tokenizer."""
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# unset or empty (the Makefile exports an empty value when ../shared is absent): the copy beside the clone
for _name, _folder in (("REPRO_DATA_DIR", "data"), ("REPRO_CORPUS_DIR", "corpus")):
    if not os.environ.get(_name):
        os.environ[_name] = str(REPO.parent / "shared" / _folder)

# tests that read the real data files (../shared/data, or $REPRO_DATA_DIR): skipped with the reason
# when the clone has no such copy beside it (CI always has one)
needs_data = pytest.mark.skipif(not Path(os.environ["REPRO_DATA_DIR"]).is_dir(),
                                reason=f"no data dir at {os.environ['REPRO_DATA_DIR']} (set REPRO_DATA_DIR)")


@pytest.fixture
def word_tokenizer():
    """A word-level tokenizer over a small vocabulary (no download): punctuation splits off, so
    ' table-to-text:' is 6 tokens, as with GPT-2's BPE."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = ["<|endoftext|>", "[UNK]", "table", "-", "to", "text", ":", "summarize", "name", "the", "a", "pub",
             "is", "near", "river", "food", "cheap", "|", "eat", "type", "coffee", "shop", "in", "city", "centre"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", bos_token="<|endoftext|>",
                                   pad_token="<|endoftext|>", unk_token="[UNK]")
