"""Pretraining recipes: architecture, size, data shape, optimizer, budget and seed, as plain data.

The budget is a number of optimizer steps (tokens = steps x batch x seq_len), never wall time,
so a run is deterministic. Shared choices and their sources:
  * AdamW, betas (0.9, 0.95), weight decay 0.1 on matrices only, grad-norm clip 1.0, linear warmup
    then cosine decay to 10% of the peak lr (nanoGPT / GPT-3 recipe, Brown et al. 2020 App. B).
  * Peak lr 1e-3 for models of a few million parameters (nanoGPT's small-model setting; GPT-3's
    table reaches 6e-4 already at 125M parameters and grows as models shrink).
  * Dropout 0 during pretraining: the runs see less than one epoch of the ~6.2M training tokens,
    so the models are under-trained, not over-fitted (nanoGPT uses 0 for pretraining). The exported
    config carries the original models' dropout 0.1 (`export_dropout`) so fine-tuning baselines
    behave as with gpt2/bart.
  * Batch 16 x 256 = 4,096 tokens per step, far below the critical batch size at these losses
    (Kaplan et al. 2020, section 5.1: ~1e5 tokens at 5 nats), so no tokens are wasted on a large
    batch; the models have n_positions / max_position_embeddings = 256 (longer inputs must be
    truncated downstream; the saved tokenizers have model_max_length = 256).
  * Vocabulary 8192 byte-level BPE: the embedding is shared with the output layer and is still
    the largest single tensor, so it is the main size lever under the 30 MB budget.

Throughput (measured 2026-11-22 on this 2-vCPU machine: AMD EPYC, AVX2 only (no AVX-512), 2.0 GHz,
MKL single-core matmul 20-30 GFLOP/s; torch 2.13 fp32, AdamW step and grad clip included; random
tokens, batch 4 x 256; for bart the source is 0.75 x 256 tokens, as after 30% infilling). Other
sessions kept the machine at load 3.5-4.5 throughout, so 2-thread wall times were unusable (every
step shared the cores with 50-67% of foreign load). What was measured instead is the CPU time of a
1-thread step, which time-sharing barely inflates (shared caches aside); the 2-free-core estimate is
2 x (1-thread tokens per CPU second) x 0.85 parallel efficiency:

  | candidate                       | params | CPU s / 1k tokens (1 thread) | est. tok/s, 2 free cores |
  |---------------------------------|--------|------------------------------|--------------------------|
  | gpt2  4 layers, d 256, T 256    | 5.32M  | 1.71                         | ~1000                    |
  | gpt2  6 layers, d 256, T 256    | 6.90M  | 2.19                         | ~780                     |
  | gpt2  6 layers, d 256, T 512    | 6.97M  | 2.45                         | ~690                     |
  | gpt2  6 layers, d 192, T 256    | 4.29M  | 1.36                         | ~1250   <- gpt2-mini     |
  | bart  2+2 layers, d 256         | 5.92M  | 1.58 (target tokens)         | ~1080                    |
  | bart  3+3 layers, d 256         | 7.76M  | 1.97                         | ~860                     |
  | bart  4+4 layers, d 192         | 5.83M  | 1.57                         | ~1080   <- bart-mini     |

Choice: in 60 minutes every candidate sees only 2.8-4.5M tokens (< 1 epoch, D << 20 N), where the
data term dominates the loss: Hoffmann et al. 2022's fit L = E + 406.4/N^0.34 + 410.7/D^0.28 (eq. 10,
their constants, as a guide only) ranks the gpt2 candidates, at the tokens each sees in 60 min,
6x192 (7.89 + E) < 4x256 (8.09 + E) < 6x256 (8.35 + E). So the recipes take the fastest
candidates that still have the depth the reproductions need (6 decoder layers; 4 + 4 for BART,
whose prefix-tuning puts prefixes in encoder, decoder and cross attention): width 192 (3 heads of
64). Together they are
~10.1M parameters = 20.2 MB in fp16, plus two ~0.55 MB tokenizers, under the 30 MB budget.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace


@dataclass(frozen=True)
class Recipe:
    name: str
    arch: str                 # "gpt2" (GPT2LMHeadModel) or "bart" (BartForConditionalGeneration)
    vocab_size: int
    d_model: int
    n_layers: int             # gpt2: layers; bart: encoder layers = decoder layers
    n_heads: int
    seq_len: int              # gpt2: block length = n_positions; bart: max source/target length
    batch_size: int           # sequences per optimizer step
    max_steps: int            # the budget
    lr: float = 1e-3
    warmup_steps: int = 200
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    grad_clip: float = 1.0
    dropout: float = 0.0
    export_dropout: float = 0.1
    seed: int = 1234
    log_every: int = 10
    eval_every: int = 250
    eval_batches: int = 16    # periodic evals use the first eval_batches validation batches; the final one all
    checkpoint_every: int = 250
    # BART denoising (Lewis et al. 2020): text infilling + sentence permutation
    mask_ratio: float = 0.3
    poisson_lambda: float = 3.0
    permute_sentences: bool = True
    noise: str = "text_infilling"  # or "token_masking" (denoise.NOISES)
    unigram_logits_bias: bool = False  # bart: final_logits_bias = training unigram log-probs (train.py)

    @property
    def tokens_per_step(self) -> int:
        """Target tokens per step (for bart: the upper bound, blocks are packed to <= seq_len)."""
        return self.batch_size * self.seq_len

    def to_dict(self) -> dict:
        return asdict(self)

    def with_(self, **changes) -> "Recipe":
        return replace(self, **changes)

    def model_config(self, dropout: float | None = None):
        """The transformers config; special-token ids are those of `tokenizer.SPECIAL_TOKENS`."""
        from repro.tiny_tokenizer import BOS, ENDOFTEXT, EOS, PAD

        p = self.dropout if dropout is None else dropout
        if self.arch == "gpt2":
            from transformers import GPT2Config

            return GPT2Config(vocab_size=self.vocab_size, n_positions=self.seq_len, n_embd=self.d_model,
                              n_layer=self.n_layers, n_head=self.n_heads, resid_pdrop=p, embd_pdrop=p, attn_pdrop=p,
                              bos_token_id=ENDOFTEXT, eos_token_id=ENDOFTEXT, tie_word_embeddings=True)
        if self.arch == "bart":
            from transformers import BartConfig

            return BartConfig(vocab_size=self.vocab_size, d_model=self.d_model, max_position_embeddings=self.seq_len,
                              encoder_layers=self.n_layers, decoder_layers=self.n_layers,
                              encoder_attention_heads=self.n_heads, decoder_attention_heads=self.n_heads,
                              encoder_ffn_dim=4 * self.d_model, decoder_ffn_dim=4 * self.d_model,
                              dropout=p, attention_dropout=p, activation_dropout=p,
                              pad_token_id=PAD, bos_token_id=BOS, eos_token_id=EOS, decoder_start_token_id=EOS,
                              forced_eos_token_id=EOS, tie_word_embeddings=True)
        raise ValueError(f"unknown arch {self.arch!r}")

    def build_model(self):
        """A freshly initialised model; the init is fixed by `seed`."""
        import torch
        from transformers import BartForConditionalGeneration, GPT2LMHeadModel

        torch.manual_seed(self.seed)
        cls = GPT2LMHeadModel if self.arch == "gpt2" else BartForConditionalGeneration
        return cls(self.model_config())


GPT2_MINI = Recipe(
    name="gpt2-mini", arch="gpt2", vocab_size=8192, d_model=192, n_layers=6, n_heads=3,
    seq_len=256, batch_size=16, max_steps=1100, lr=1e-3, warmup_steps=50,
    log_every=10, eval_every=100, eval_batches=8, checkpoint_every=100,
)
"""gpt2-mini: GPT2LMHeadModel, 6 layers, d 192, 3 heads, 256 positions, 8192 BPE; 4.29M parameters.

Budget: 1,100 steps x 4,096 tokens = 4.5M tokens (0.73 epochs of the offline corpus).
Expected time: ~1,250 tok/s on 2 free cores (table above) -> ~60 min of training, plus ~3 min for
the tokenizer, data preparation, 11 periodic evaluations (8 batches each) and the final export.
Checkpoints every 100 steps (~5.5 min of work lost at most on a kill)."""

BART_MINI = Recipe(
    name="bart-mini", arch="bart", vocab_size=8192, d_model=192, n_layers=4, n_heads=3,
    seq_len=256, batch_size=16, max_steps=1000, lr=5e-4, warmup_steps=200,
    log_every=10, eval_every=100, eval_batches=8, checkpoint_every=100,
    unigram_logits_bias=True,
)
"""bart-mini: BartForConditionalGeneration, 4 encoder + 4 decoder layers, d 192, 3 heads, FFN 768,
256 positions, 8192 BPE; 5.83M parameters. Denoising: sentence permutation + text infilling
(30%, Poisson(3) spans, one <mask> per span), see denoise.py.

Two departures from the shared recipe, both measured on 2026-11-23: lr 5e-4 with 200 warmup steps
(post-LN BART at 1e-3 / 50 sat at the unigram loss for 500 steps), and `unigram_logits_bias`: the
fixed output bias `final_logits_bias` (a BART buffer, zero in BART-large) is set to the training
unigram log-probabilities. Without it the encoder collapsed in every run tried (lr 1e-3 and 5e-4,
with or without sentence permutation, text infilling or token masking): no source gain after
200-1,000 steps; the decoder learned the unigram through the mean of its still-uniform
cross-attention, which pulls all encoder positions to one vector. With it, the source gain is
0.14 nats/token at step 100 and keeps growing (a copy task: 8.4 nats by step 150 vs 0.0).

Budget: 1,000 steps x 16 sentence-packed blocks of <= 256 tokens (~3,900 target tokens per step,
~3.9M target tokens in all, 0.63 epochs). Expected time: ~1,080 target tok/s on 2 free cores ->
~60 min of training plus ~3 min of preparation, evaluations and export."""

GPT2_TINY = Recipe(
    name="gpt2-tiny", arch="gpt2", vocab_size=512, d_model=32, n_layers=2, n_heads=2, seq_len=32,
    batch_size=8, max_steps=24, lr=3e-3, warmup_steps=4, dropout=0.1, log_every=2, eval_every=8, eval_batches=2,
    checkpoint_every=8,
)
"""gpt2-tiny: for tests and smoke runs (seconds). Dropout is on so that resuming must restore the RNG."""

BART_TINY = GPT2_TINY.with_(name="bart-tiny", arch="bart", unigram_logits_bias=True)
"""bart-tiny: the same shape as gpt2-tiny, 2 encoder + 2 decoder layers."""

RECIPES = {r.name: r for r in (GPT2_MINI, BART_MINI, GPT2_TINY, BART_TINY)}


def get_recipe(name: str) -> Recipe:
    try:
        return RECIPES[name]
    except KeyError:
        raise KeyError(f"unknown recipe {name!r}; choose one of {sorted(RECIPES)}") from None
