"""Greedy and beam-search decoding for every method: `generate`'s results, in less time on a CPU.

`decode(tuner, input_ids, attention_mask, num_beams=5, max_new_tokens=..., ...)` returns what
`tuner.generate` (the model's own `transformers.generate`) returns for the same options: for a
decoder the new tokens, for an encoder-decoder the decoder tokens from the start token, padded with
`pad_token_id`. The search is the same as transformers 5's (`GenerationMixin._beam_search`): log-softmax,
then the logits processors, top 2K of K x V candidates, the top K of those that end in EOS finalized
with score / length**length_penalty, the best K others kept running, the same early-stop heuristic.
`generate` stays the reference: tests compare the two, token for token.

Where the time goes, and what this does instead (measured in `make bench BENCH_ARGS=--decode`):

* The prompt (prefix + source) is run once per input, not once per beam: `generate` copies each
  input K times before its first forward pass, so K-1 of K prompt passes are repeated work. Here the
  prompt's cache is computed for B rows and then repeated for the beams.
* An input whose search is over leaves the batch: `generate` keeps computing every row until the
  last input of the batch is done.
* `sort_by_length` in `decode_texts`: inputs of similar length share a batch, so it carries little
  padding; results are returned in the input order.

`length_normalization`: ``generated`` (transformers >= 4.x: a finished hypothesis scores
sum log p / (generated tokens, EOS included) ** length_penalty), or ``full_sequence`` (transformers 3.2,
which the Prefix-Tuning code decoded with: the hypothesis is the prompt plus the tokens before EOS, so
sum log p / (prompt tokens + generated tokens before EOS) ** length_penalty, the early-stop bound
likewise; the prompt counts its real tokens, not padding or a prefix).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from repro.methods.base import ConfigError, output_logits

LENGTH_NORMALIZATIONS = ("generated", "full_sequence")
# generation options this search implements; anything else is refused (use generate)
SUPPORTED = {"num_beams", "max_new_tokens", "min_new_tokens", "do_sample", "eos_token_id", "pad_token_id",
             "length_penalty", "early_stopping", "no_repeat_ngram_size", "bad_words_ids", "repetition_penalty",
             "num_return_sequences", "suppress_tokens", "forced_bos_token_id", "decoder_start_token_id",
             "length_normalization"}
NEG = -1.0e9


@dataclass
class Search:
    num_beams: int
    max_new_tokens: int
    eos: int | None
    pad: int
    length_penalty: float
    early_stopping: bool
    length_normalization: str


def _processors(options: dict, prompt_width: int):
    """The logits processors `generate` would build for these options, in its order."""
    from transformers.generation import logits_process as lp

    out = lp.LogitsProcessorList()
    eos = options.get("eos_token_id")
    if options.get("repetition_penalty", 1.0) not in (None, 1.0):
        out.append(lp.RepetitionPenaltyLogitsProcessor(options["repetition_penalty"]))
    if options.get("no_repeat_ngram_size"):
        out.append(lp.NoRepeatNGramLogitsProcessor(options["no_repeat_ngram_size"]))
    if options.get("bad_words_ids"):
        out.append(lp.NoBadWordsLogitsProcessor(options["bad_words_ids"], eos))
    if options.get("min_new_tokens") and eos is not None:
        out.append(lp.MinNewTokensLengthLogitsProcessor(prompt_width, options["min_new_tokens"], eos))
    if options.get("forced_bos_token_id") is not None:
        out.append(lp.ForcedBOSTokenLogitsProcessor(options["forced_bos_token_id"]))
    if options.get("suppress_tokens"):
        out.append(lp.SuppressTokensLogitsProcessor(options["suppress_tokens"]))
    return out


def _search_options(model, options: dict) -> Search:
    unknown = sorted(set(options) - SUPPORTED)
    if unknown:
        raise ConfigError(f"repro.decoding does not implement the generation option(s) {unknown}; "
                          "use the reference decoding (decode engine: generate)")
    if options.get("do_sample"):
        raise ConfigError("repro.decoding is deterministic search only (do_sample must be false)")
    if options.get("num_return_sequences", 1) != 1:
        raise ConfigError("repro.decoding returns one sequence per input (num_return_sequences: 1)")
    norm = options.get("length_normalization", "generated")
    if norm not in LENGTH_NORMALIZATIONS:
        raise ConfigError(f"length_normalization={norm!r}; choose one of {LENGTH_NORMALIZATIONS}")
    eos = options.get("eos_token_id", model.generation_config.eos_token_id)
    if isinstance(eos, (list, tuple)):
        if len(eos) != 1:
            raise ConfigError("repro.decoding takes one eos_token_id")
        eos = eos[0]
    pad = options.get("pad_token_id", model.generation_config.pad_token_id)
    if pad is None:
        pad = eos if eos is not None else 0
    if "max_new_tokens" not in options:
        raise ConfigError("repro.decoding needs max_new_tokens")
    return Search(num_beams=options.get("num_beams", 1), max_new_tokens=options["max_new_tokens"], eos=eos, pad=pad,
                  length_penalty=float(options.get("length_penalty", 1.0)),
                  early_stopping=bool(options.get("early_stopping", False)), length_normalization=norm)


# ------------------------------------------------------------------------------------------- model steps
class _Steps:
    """What both kinds of model steps share: `expand` repeats every row k times (one per beam)."""

    def rows(self) -> torch.Tensor:  # a tensor with one row per search row
        raise NotImplementedError

    def select(self, rows: torch.Tensor):
        raise NotImplementedError

    def expand(self, k: int):
        rows = self.rows()
        self.select(torch.arange(rows.shape[0], device=rows.device).repeat_interleave(k))


class DecoderSteps(_Steps):
    """Prompt and next-token passes of a decoder-only tuner (prefix, prompt, infix, ...)."""

    def __init__(self, tuner, input_ids, attention_mask):
        self.tuner, self.model = tuner, tuner.model
        state = tuner.decoding_prefill(input_ids, attention_mask)
        self.cache, self.mask, self.first_hidden = state.cache, state.mask, state.last_hidden
        self.positions = self.mask.long().sum(-1) - 1  # position of the last token per row
        self.prompt = state.prompt  # the prompt as `generate` sees it (the processors read it)

    def first_logits(self):
        return output_logits(self.model, self.first_hidden)

    def select(self, rows: torch.Tensor):
        """Keep (and reorder) cache rows: beams that go on, inputs that are not done."""
        self.cache.reorder_cache(rows)
        self.mask = self.mask.index_select(0, rows)
        self.positions = self.positions.index_select(0, rows)

    def rows(self) -> torch.Tensor:
        return self.mask

    def step(self, tokens: torch.Tensor) -> torch.Tensor:
        """(R,) tokens -> (R, V) next-token logits; the cache grows by one."""
        self.mask = torch.cat([self.mask, self.mask.new_ones(self.mask.shape[0], 1)], 1)
        self.positions = self.positions + 1
        with self.tuner._injection():
            out = self.model.base_model(input_ids=tokens[:, None], attention_mask=self.mask,
                                        position_ids=self.positions[:, None], past_key_values=self.cache,
                                        use_cache=True)
        self.cache = out.past_key_values
        return output_logits(self.model, out.last_hidden_state[:, -1])


class EncoderDecoderSteps(_Steps):
    """Encoder once per input, then decoder steps (BART, T5), under the tuner's injection."""

    def __init__(self, tuner, input_ids, attention_mask, start_token: int):
        from transformers import DynamicCache, EncoderDecoderCache

        self.tuner, self.model = tuner, tuner.model
        with tuner._injection():
            inputs = tuner._encode_inputs(input_ids, attention_mask)
            self.encoded = self.model.get_encoder()(**inputs).last_hidden_state
        self.enc_mask = inputs["attention_mask"]
        self.cache = EncoderDecoderCache(DynamicCache(), DynamicCache())
        self.prompt = torch.full((input_ids.shape[0], 1), start_token, dtype=torch.long, device=input_ids.device)
        self._first = self._forward(self.prompt[:, 0])

    def first_logits(self):
        return self._first

    def _forward(self, tokens):
        with self.tuner._injection():
            out = self.model(encoder_outputs=(self.encoded,), attention_mask=self.enc_mask,
                             decoder_input_ids=tokens[:, None], past_key_values=self.cache, use_cache=True)
        self.cache = out.past_key_values
        return out.logits[:, -1]

    def select(self, rows: torch.Tensor):
        self.cache.reorder_cache(rows)
        self.encoded = self.encoded.index_select(0, rows)
        self.enc_mask = self.enc_mask.index_select(0, rows)

    def rows(self) -> torch.Tensor:
        return self.encoded

    def step(self, tokens):
        return self._forward(tokens)


# ------------------------------------------------------------------------------------------- search
@torch.no_grad()
def decode(tuner, input_ids, attention_mask, **options) -> torch.Tensor:
    """Greedy (num_beams=1) or beam search; returns what `tuner.generate` returns for these options."""
    model = tuner.model
    search = _search_options(model, options)
    input_ids, attention_mask = tuner.decoding_rows(input_ids, attention_mask)
    if tuner.is_encoder_decoder:
        start = options.get("decoder_start_token_id", model.config.decoder_start_token_id)
        steps = EncoderDecoderSteps(tuner, input_ids, attention_mask, start)
    else:
        steps = DecoderSteps(tuner, input_ids, attention_mask)
    processors = _processors(options, steps.prompt.shape[1])
    # the real tokens of the prompt as `generate` holds it (full_sequence counts them): [x; sep] for a decoder,
    # the separator alone for infix (whose x is in its cache, as in 3.2), the start token for a seq2seq decoder
    width = steps.prompt.shape[1]
    prompt_tokens = (attention_mask[:, -width:].sum(-1) if not tuner.is_encoder_decoder
                     else torch.ones_like(steps.prompt[:, 0]))
    if search.num_beams == 1:
        new = _greedy(steps, search, processors)
    else:
        new = _beam(steps, search, processors, prompt_tokens)
    return torch.cat([steps.prompt, new], 1) if tuner.is_encoder_decoder else new


def _greedy(steps, s: Search, processors) -> torch.Tensor:
    """`generate`'s greedy search: processors on the logits, argmax, pad after EOS, rows leave when done."""
    B = steps.prompt.shape[0]
    device = steps.prompt.device
    out = torch.full((B, s.max_new_tokens), s.pad, dtype=torch.long, device=device)
    alive = torch.arange(B, device=device)
    sequences = steps.prompt
    logits = steps.first_logits()
    n = 0
    for n in range(s.max_new_tokens):
        scores = processors(sequences, logits.float())
        tokens = scores.argmax(-1)
        out[alive, n] = tokens
        sequences = torch.cat([sequences, tokens[:, None]], 1)
        going = tokens != s.eos if s.eos is not None else torch.ones_like(tokens, dtype=torch.bool)
        if n + 1 == s.max_new_tokens or not going.any():
            break
        if not going.all():
            keep = going.nonzero().squeeze(1)
            steps.select(keep)
            alive, sequences, tokens = alive[keep], sequences[keep], tokens[keep]
        logits = steps.step(tokens)
    return out[:, :n + 1]


def _beam(steps, s: Search, processors, prompt_tokens: torch.Tensor) -> torch.Tensor:
    """Beam search (see the module docstring); an input leaves the batch when its search is over."""
    K, device = s.num_beams, steps.prompt.device
    B = steps.prompt.shape[0]
    T = s.max_new_tokens
    legacy = s.length_normalization == "full_sequence"  # transformers 3.2's rules
    lp = s.length_penalty
    # per input: the K best finished hypotheses (normalized scores, tokens, generated length)
    best_scores = torch.full((B, K), NEG, device=device)
    best_tokens = torch.full((B, K, T), s.pad, dtype=torch.long, device=device)
    best_len = torch.zeros((B, K), dtype=torch.long, device=device)
    # per live row group: the K running beams (summed log-probs, tokens so far)
    run_scores = torch.zeros((B, K), device=device)
    run_scores[:, 1:] = NEG  # the K copies of the prompt: only the first one expands at step 0
    run_tokens = torch.full((B, K, T), s.pad, dtype=torch.long, device=device)
    alive = torch.arange(B, device=device)  # input index of each live group of K rows
    searching = torch.ones(B, dtype=torch.bool, device=device)  # generate's early-stop heuristic not yet met
    steps.expand(K)
    sequences = steps.prompt.repeat_interleave(K, 0)  # what the processors read: prompt + tokens so far
    logits = steps.first_logits().repeat_interleave(K, 0)
    ranks = torch.arange(2 * K, device=device)

    def merge(inputs, scores, tokens, lengths):
        """Add candidate hypotheses (-1e9 = not a candidate) to the K best of each input."""
        all_scores = torch.cat([best_scores[inputs], scores], 1)
        order = torch.topk(all_scores, K).indices
        best_scores[inputs] = all_scores.gather(1, order)
        best_tokens[inputs] = torch.cat([best_tokens[inputs], tokens], 1).gather(1, order[:, :, None].expand(-1, -1, T))
        best_len[inputs] = torch.cat([best_len[inputs], lengths], 1).gather(1, order)

    for t in range(T):
        b = alive.shape[0]
        log_probs = processors(sequences, F.log_softmax(logits.float(), dim=-1))
        V = log_probs.shape[-1]
        total = (log_probs.view(b, K, V) + run_scores[alive][:, :, None]).view(b, K * V)
        top_scores, top_index = torch.topk(total, 2 * K)  # (1 EOS token + 1) x K candidates, as generate
        parent, token = top_index // V, top_index % V
        history = run_tokens[alive].gather(1, parent[:, :, None].expand(-1, -1, T)).clone()
        history[:, :, t] = token
        last = t + 1 == T
        is_eos = token == s.eos if s.eos is not None else torch.zeros_like(token, dtype=torch.bool)
        done_before = (best_scores[alive] > NEG / 2).all(-1, keepdim=True)  # K hypotheses already
        if legacy:  # 3.2: EOS hypotheses among the top K ranks; length = prompt + tokens before EOS
            finishing = is_eos & (ranks < K)
            length = prompt_tokens[alive][:, None] + t
        else:  # 5.x: EOS or max length, among the top K ranks; length = generated tokens incl. EOS
            finishing = (is_eos | last) & (ranks < K) & searching[alive][:, None]
            length = torch.full_like(token, t + 1)
        if s.early_stopping:
            finishing &= ~done_before
        normalized = top_scores / length.float() ** lp
        merge(alive, torch.where(finishing, normalized, NEG), history, torch.full_like(token, t + 1))
        stops = is_eos | (last & torch.tensor(not legacy, device=device))
        running = torch.topk(top_scores + stops.float() * NEG, K)
        run_scores[alive] = running.values
        run_tokens[alive] = history.gather(1, running.indices[:, :, None].expand(-1, -1, T))
        full = (best_scores[alive] > NEG / 2).all(-1)
        worst = best_scores[alive].min(-1).values
        if legacy:  # is_done(best candidate score, cur_len = prompt + tokens so far)
            bound = top_scores[:, 0] / (prompt_tokens[alive] + t).float() ** lp
            go_on = ~(full & (torch.tensor(s.early_stopping, device=device) | (worst >= bound)))
        if last:
            if legacy:  # 3.2 adds the open beams at max length, scored over their whole length, to the inputs not done
                open_len = prompt_tokens[alive][:, None] + T
                open_scores = torch.where(go_on[:, None], running.values / open_len.float() ** lp, NEG)
                merge(alive, open_scores, run_tokens[alive], torch.full_like(running.indices, T))
            break
        else:  # generate's heuristic: best running score over the current generated length
            bound = run_scores[alive][:, 0] / float(t + 1) ** lp
            go_on = searching[alive] & ~(full & (worst >= bound))
            if s.early_stopping:
                go_on &= ~full
        searching[alive] = go_on
        if not go_on.any():
            break
        live = go_on.nonzero().squeeze(1)
        rows = (live[:, None] * K + parent.gather(1, running.indices)[live]).reshape(-1)  # parent rows, kept inputs
        steps.select(rows)
        alive = alive[live]
        next_tokens = run_tokens[alive][:, :, t].reshape(-1)
        sequences = torch.cat([sequences.index_select(0, rows), next_tokens[:, None]], 1)
        logits = steps.step(next_tokens)
    width = max(int(best_len[:, 0].max()), 1)
    return best_tokens[:, 0, :width]
