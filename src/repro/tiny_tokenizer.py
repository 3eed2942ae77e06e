"""A byte-level BPE tokenizer trained in a second (the smoke models' tokenizer; it also served the retired
homemade mini models), saved so `AutoTokenizer.from_pretrained` works.

Choices and their sources:
  * Byte-level BPE without a prefix space, as GPT-2 (Radford et al. 2019) and BART (which reuses
    GPT-2's BPE): every string is encodable, no <unk> is ever produced.
  * Special tokens at fixed ids, `<s>`=0 `<pad>`=1 `</s>`=2 `<unk>`=3 (BART/fairseq's ids, so
    BartConfig's defaults bos=0, pad=1, eos=2, decoder_start=2 hold), then `<|endoftext|>`=4 (GPT-2's
    only special token) and `<mask>`=5. One vocabulary serves both models; the special-token roles
    are set per model when the tokenizer is saved:
      - gpt2: `GPT2Tokenizer` with bos = eos = unk = `<|endoftext|>` and *no* pad token, exactly
        like `gpt2`/`gpt2-medium`, so downstream code follows the same path at both scales.
      - bart: `BartTokenizer` (in transformers 5 an alias of RobertaTokenizer) with `<s> </s> <pad>
        <unk> <mask>`, which adds `<s> ... </s>` around each text; `<mask>` strips the space on its
        left, as in `facebook/bart-large`.
  * Trained on the training split only (the validation text stays unseen), min_frequency 2.
"""

from __future__ import annotations

import json
from typing import Iterable


SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<|endoftext|>", "<mask>")
BOS, PAD, EOS, UNK, ENDOFTEXT, MASK = range(len(SPECIAL_TOKENS))
BYTE_ALPHABET = 256


class TokenizerTrainingError(ValueError):
    """The text cannot give the asked vocabulary; the message names the fix."""


def train_bpe(texts: Iterable[str], vocab_size: int, min_frequency: int = 2):
    """Train a byte-level BPE (`tokenizers.Tokenizer`) with exactly `vocab_size` entries.

    Raises TokenizerTrainingError when the text is too small to yield `vocab_size` tokens (the trainer
    stops early when no pair occurs `min_frequency` times), naming the fix.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    floor = BYTE_ALPHABET + len(SPECIAL_TOKENS)
    if vocab_size <= floor:
        raise TokenizerTrainingError(f"vocab_size={vocab_size} is too small: the byte alphabet and special tokens "
                            f"alone take {floor}. Choose a vocab_size above {floor} (e.g. 8192).")
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    bpe.train_from_iterator(texts, trainer=trainer)
    got = bpe.get_vocab_size()
    if got < vocab_size:
        raise TokenizerTrainingError(
            f"The corpus is too small for a vocabulary of {vocab_size}: BPE found only {got} tokens that occur "
            f"at least {min_frequency} times. Use a larger corpus (REPRO_CORPUS_DIR / --corpus) or a recipe with "
            f"a smaller vocab_size (at most {got}).")
    for i, tok in enumerate(SPECIAL_TOKENS):
        assert bpe.token_to_id(tok) == i, (tok, bpe.token_to_id(tok))
    return bpe


def vocab_and_merges(bpe) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """The BPE model's vocabulary and ordered merges (what GPT2Tokenizer/BartTokenizer take)."""
    model = json.loads(bpe.to_str())["model"]
    merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    return dict(model["vocab"]), merges


def make_tokenizer(bpe, arch: str, model_max_length: int):
    """Wrap the trained BPE as the transformers tokenizer class of `arch` ("gpt2" or "bart")."""
    from tokenizers import AddedToken
    from transformers import BartTokenizer, GPT2Tokenizer

    vocab, merges = vocab_and_merges(bpe)
    if arch == "gpt2":
        eot = SPECIAL_TOKENS[ENDOFTEXT]
        return GPT2Tokenizer(vocab=vocab, merges=merges, bos_token=eot, eos_token=eot, unk_token=eot,
                             pad_token=None, model_max_length=model_max_length)
    if arch == "bart":
        mask = AddedToken(SPECIAL_TOKENS[MASK], lstrip=True, rstrip=False, normalized=False, special=True)
        return BartTokenizer(vocab=vocab, merges=merges, bos_token="<s>", eos_token="</s>", sep_token="</s>",
                             cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token=mask,
                             model_max_length=model_max_length)
    raise TokenizerTrainingError(f"unknown arch {arch!r} (expected 'gpt2' or 'bart')")
