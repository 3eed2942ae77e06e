"""Pretrain the small GPT-2 and BART models that the `mini` scale of every reproduction loads.

No pretrained GPT-2 or BART can be downloaded offline, and prefix-tuning a frozen *random* model
means nothing, so the repository trains its own once and loads them with `from_pretrained(path)`,
the same code path that loads `gpt2-medium` / `facebook/bart-large` at paper scale.

Modules (read in this order):
  corpus.py     read the plain-text corpus (or WikiText-103 from the hub), deterministic 1% holdout
  tokenizer.py  train one byte-level BPE; save it as GPT2Tokenizer / BartTokenizer files
  recipes.py    the recipes (`gpt2-mini`, `bart-mini`, and `*-tiny` for tests): sizes, budget, seed
  denoise.py    BART's noising: text infilling and sentence permutation, pure functions on ids
  data.py       token ids -> fixed, step-indexed batches (LM blocks; denoising pairs)
  train.py      the deterministic training loop: checkpoints, resume, JSONL log, fp16 export
  evaluate.py   validation perplexity and the add-one unigram baseline on the same tokens
  cli.py        `python -m repro.pretrain --recipe gpt2-mini --out models/gpt2-mini [--resume]`

Heavy imports (torch, transformers) stay inside the modules that need them, so
`import repro.pretrain` is cheap.
"""

from __future__ import annotations


class PretrainError(RuntimeError):
    """A problem with the user's input (corpus, vocabulary size, output directory).

    The message always says how to fix it; the CLI prints it without a traceback.
    """
