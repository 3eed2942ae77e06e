"""Paper-scale training-step and decoding times on one GPU, for the READMEs' GPU-hour estimates.

`python -m repro.paper_timing results/bench/<gpu>-paper-timing.json` (needs CUDA). Random weights
in the papers' model shapes (no download), fp32 as the reference code: GPT-2 Medium / Large with
prefix (P=5, MLP 512), full fine-tuning and Adapter(0.1%) at E2E-like lengths (60 source + 40
target tokens, the Table 6 batch sizes), BART-large with prefix P=100 and P=5 (MLP 800) at XSUM
lengths (512 -> 60, batch 14); beam-search decoding forced to its full length (an upper bound:
a trained model stops earlier). Medians after warm-up steps.
"""
import json
import statistics
import sys
import time

import torch


def main(path: str) -> None:
    from transformers import BartConfig, BartForConditionalGeneration, GPT2Config, GPT2LMHeadModel

    from repro import methods

    if not torch.cuda.is_available():
        sys.exit("repro.paper_timing needs a CUDA device (CPU steps at these shapes take seconds each)")
    dev = "cuda"
    out = {}

    def timed(fn, n, warm):
        ts = []
        for i in range(warm + n):
            torch.cuda.synchronize(); t = time.perf_counter(); fn(); torch.cuda.synchronize()
            if i >= warm: ts.append(time.perf_counter() - t)
        return statistics.median(ts)

    def train_step_time(tuner, kwargs, n=20, warm=5):
        opt = torch.optim.AdamW(tuner.trainable_parameters(), lr=5e-5)
        def step():
            loss = tuner(**kwargs).loss; opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
        return timed(step, n, warm)

    def gpt2(shape):
        torch.manual_seed(0)
        return GPT2LMHeadModel(GPT2Config(**shape)).to(dev)

    shapes = {"gpt2-medium": dict(n_layer=24, n_head=16, n_embd=1024), "gpt2-large": dict(n_layer=36, n_head=20, n_embd=1280)}
    g = torch.Generator().manual_seed(0)
    for name, shape in shapes.items():
        for method, options, batch in [("prefix", {"prefix_length": 5, "mid_dim": 512}, 10), ("finetune", {}, 10), ("adapter", {"budget": 0.001}, 5)]:
            if name == "gpt2-large" and method == "adapter":
                continue
            tuner = methods.build(gpt2(shape), method, options).train()
            ids = torch.randint(0, 50257, (batch, 100), generator=g).to(dev)
            labels = ids.clone(); labels[:, :60] = -100
            t = train_step_time(tuner, dict(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels))
            out[f"{name} {method} train step (batch {batch} x 100 tokens)"] = t
            print(f"{name} {method} batch {batch}: {1000*t:.1f} ms/step", flush=True)
            if method == "prefix" and name == "gpt2-medium":
                tuner.eval()
                prompts = torch.randint(0, 50256, (8, 60), generator=g).to(dev)
                def dec():
                    with torch.no_grad():
                        tuner.generate(prompts, torch.ones_like(prompts), num_beams=5, max_new_tokens=100, min_new_tokens=100,
                                       do_sample=False, pad_token_id=50256, eos_token_id=50256)
                t = timed(dec, 3, 1)
                out["gpt2-medium prefix beam-5 decode, 8 inputs x 100 new tokens"] = t
                print(f"decode beam 5, batch 8, 100 tokens: {t:.2f} s/batch", flush=True)
            tuner = None  # free the GPU memory before the next model
            torch.cuda.empty_cache()

    torch.manual_seed(0)
    cfg = BartConfig(vocab_size=50265, d_model=1024, encoder_layers=12, decoder_layers=12, encoder_attention_heads=16,
                     decoder_attention_heads=16, encoder_ffn_dim=4096, decoder_ffn_dim=4096, max_position_embeddings=1024)
    for P in (100, 5):
        tuner = methods.build(BartForConditionalGeneration(cfg).to(dev), "prefix", {"prefix_length": P, "mid_dim": 800}).train()
        src = torch.randint(3, 50265, (14, 512), generator=g).to(dev)
        tgt = torch.randint(3, 50265, (14, 60), generator=g).to(dev)
        t = train_step_time(tuner, dict(input_ids=src, attention_mask=torch.ones_like(src), labels=tgt), n=10, warm=3)
        out[f"bart-large prefix P={P} train step (batch 14, 512 -> 60)"] = t
        print(f"bart-large prefix P={P} batch 14: {1000*t:.1f} ms/step", flush=True)
        if P == 100:
            tuner.eval()
            s8 = src[:8]
            def dec():
                with torch.no_grad():
                    tuner.generate(s8, torch.ones_like(s8), num_beams=6, max_new_tokens=60, min_new_tokens=60, do_sample=False,
                                   length_penalty=0.8)
            t = timed(dec, 2, 1)
            out["bart-large prefix beam-6 decode, 8 inputs x 60 new tokens"] = t
            print(f"bart decode beam 6, batch 8, 60 tokens: {t:.2f} s/batch", flush=True)
        tuner = None  # free the GPU memory before the next model
        torch.cuda.empty_cache()
    out["device"] = torch.cuda.get_device_name(); out["torch"] = torch.__version__
    with open(path, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "paper_timing.json")
