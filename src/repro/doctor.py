"""`repro doctor`: a preflight check, in seconds, before a long run.

    repro doctor --reproduction table2_table_to_text --scale paper

checks what the runs of one reproduction at one scale need and prints one table, one row per item
(✓ fine, ✗ blocks the runs, ! worth knowing), each ✗ with its fix; the exit status is 1 when
anything blocks:

* every dataset split the runs read (training, evaluation, selection): already in the data directory,
  or reachable at its pinned source (one HEAD request, or a hub metadata call, per host or repo: no
  download; `make reproduce-*` fetches what is missing before it trains);
* every model: a local folder, already in the Hugging Face cache, or reachable on the hub (a metadata
  call; a bare id such as ``gpt2-medium`` is refused: the hub client wants ``namespace/name``);
* the GPU and its memory against what the largest run needs (an estimate from its parameter count:
  16 bytes per fine-tuned parameter (fp32 weights, gradient, two Adam moments), 4 per frozen one, plus
  60% for activations at the papers' batch sizes and 1 GiB for the CUDA context, calibrated on the
  measured GPT-2 Medium step of results/bench/h100-gpt2-medium; the step times of
  results/bench/*-paper-timing.json (`repro.paper_timing`) are quoted when the GPU matches);
* disk space for the models, the data, every run's saved artifact and one training checkpoint;
* Java for the METEOR / TER / PTB-tokenizer scorers (E2E, WebNLG, DART);
* write access to the results directory.

Network checks use short timeouts and are skipped (and reported as "needs internet") under
``HF_HUB_OFFLINE=1`` or ``--offline``, so offline it finishes in seconds and says which items it
could not check.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

GIB = 1 << 30
TIMEOUT = 4.0  # seconds, every network call

OK, FAIL, WARN = "✓", "✗", "!"

#: parameters of the paper models (used when the hub cannot be asked): the models' config shapes
PARAMETERS = {
    "openai-community/gpt2-medium": 354_823_168, "openai-community/gpt2-large": 774_030_080,
    "facebook/bart-large": 406_291_456, "google/t5-small-lm-adapt": 76_961_152,
    "google/t5-base-lm-adapt": 247_577_856, "google/t5-large-lm-adapt": 783_150_080,
    "google/t5-xl-lm-adapt": 2_849_757_184, "google/t5-xxl-lm-adapt": 11_135_332_352,
}
JAVA_DATASETS = {"e2e", "webnlg", "dart"}  # scored with METEOR / TER (Java)


@dataclass
class Row:
    status: str
    item: str
    detail: str
    fix: str = ""

    @property
    def blocks(self) -> bool:
        return self.status == FAIL


class Network:
    """Reachability, asked once per host / hub repo, with a short timeout; nothing when offline."""

    def __init__(self, offline: bool):
        self.offline = offline or os.environ.get("HF_HUB_OFFLINE") == "1"
        self.hosts: dict[str, str | None] = {}

    def why_not(self, url: str) -> str | None:
        """None if `url` answers a HEAD request, else why not (one phrase)."""
        if self.offline:
            return "needs internet (not checked: offline mode)"
        host = urlparse(url).hostname or url
        if host in self.hosts and self.hosts[host] is not None:
            return self.hosts[host]  # the host failed once: do not wait for it again
        import requests

        try:
            r = requests.head(url, timeout=TIMEOUT, allow_redirects=True,
                              headers={"User-Agent": "repro-doctor"})
            problem = None if r.status_code < 400 else f"HTTP {r.status_code} for {url}"
            self.hosts.setdefault(host, None)
            return problem
        except requests.RequestException as err:
            problem = f"needs internet: {host} unreachable ({err.__class__.__name__})"
            self.hosts[host] = problem
            return problem


def _hub_error(err: Exception) -> str:
    name = err.__class__.__name__
    if "Offline" in name:
        return "needs internet (HF_HUB_OFFLINE=1)"
    if "RepositoryNotFound" in name or "404" in str(err):
        return "not found on the hub"
    if "Gated" in name:
        return "gated on the hub: accept its licence and log in (hf auth login)"
    if "Connect" in name or "Timeout" in name or "Connection" in str(err):
        return "needs internet: huggingface.co unreachable"
    from repro.data.fetch import short_error

    return short_error(err, 100)


# ---------------------------------------------------------------------------------------------
# Checks


def check_data(specs, net: Network) -> list[Row]:
    from repro.data import catalog
    from repro.data.catalog import HubSplit
    from repro.data.common import DATA_DIR_ENV
    from repro.data.fetch import data_dir, fetch_command, split_status
    from repro.data_cli import run_data_needs

    root = data_dir()
    rows, asked = [], {}
    for name, split in run_data_needs(specs):
        option, lacking = split_status(name, split, root)
        item = f"data {name}/{split}"
        if option is not None:
            rows.append(Row(OK, item, f"in {root} ({option.label})"))
            continue
        options = catalog.options(name, split)
        if not options:
            rows.append(Row(FAIL, item, "no published source for this split", "pick another split in the config"))
            continue
        problems = []
        for opt in options:  # reachable if every missing item of one option is
            missing = [i for i in opt.items if i.path in lacking or not (root / i.path).exists()]
            why = None
            for i in missing:
                key = i.repo if isinstance(i, HubSplit) else i.remotes[0].url if i.remotes else i.archive.remote.url
                if key not in asked:
                    asked[key] = _hub_reachable(i, net) if isinstance(i, HubSplit) else net.why_not(key)
                why = why or asked[key]
            if why is None:
                rows.append(Row(OK, item, f"not local yet; reachable ({opt.label}); `make reproduce-*` fetches it",
                                f"or now: {fetch_command(name, split)}"))
                break
            problems.append(why)
        else:
            rows.append(Row(FAIL, item, f"not in {root}; {problems[0]}",
                            f"{fetch_command(name, split)} (on a machine with internet, or --mirror DIR)"))
    if any("not local yet" in r.detail or r.status == FAIL for r in rows):
        from repro.data.fetch import read_only_reason

        fix = (f"set {DATA_DIR_ENV} to a writable folder (default data/ in the clone); a read-only copy can be "
               f"given to `repro data fetch` as --mirror")
        reason = read_only_reason(root)
        rows.append(Row(FAIL, "data dir", f"missing splits cannot be fetched there: {reason}", fix) if reason
                    else _writable(root, "data dir", fix))
    return rows


def _writable(path: Path, label: str, fix: str) -> Row:
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".doctor-", delete=True) as f:
            f.write(b"ok")
    except OSError as err:
        return Row(FAIL, label, f"{path} is not writable ({err.__class__.__name__})", fix)
    return Row(OK, label, f"{path} writable")


def _hub_reachable(item, net: Network) -> str | None:
    if net.offline:
        return "needs internet (not checked: offline mode)"
    from repro.data.fetch import hub_api

    try:
        hub_api().dataset_info(item.repo, revision=item.revision, timeout=TIMEOUT)
    except Exception as err:  # noqa: BLE001 - the hub client's errors, reported in words
        return f"hub {item.repo}: {_hub_error(err)}"
    return None


def _cached(repo: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    config = try_to_load_from_cache(repo, "config.json")
    weights = [try_to_load_from_cache(repo, f) for f in
               ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")]
    return isinstance(config, str) and any(isinstance(w, str) for w in weights)


def check_models(specs, net: Network) -> tuple[list[Row], dict[str, int | None]]:
    """Rows, and the parameter count of every model (None where unknown)."""
    from repro.models import SCRATCH_PREFIX

    rows, params = [], {}
    for name in dict.fromkeys(s.model_name for s in specs):
        item = f"model {name}"
        local = name.removeprefix(SCRATCH_PREFIX)
        if name.startswith("tiny:"):
            rows.append(Row(OK, item, "built from a config (no download)"))
            params[name] = None
            continue
        if local.startswith((".", "/", "models/")) or Path(local).is_dir():
            present = (Path(local) / "config.json").is_file()
            rows.append(Row(OK if present else FAIL, item, "local folder" if present else "local folder missing",
                            "" if present else "make setup / make pretrain-mini (see models/README.md)"))
            params[name] = _local_parameters(Path(local)) if present else None
            continue
        params[name] = PARAMETERS.get(name)
        if "/" not in name:
            rows.append(Row(FAIL, item, "bare hub id: the hub client wants namespace/name",
                            f"use the namespaced id in the config (e.g. openai-community/{name})"))
            continue
        if _cached(name):
            rows.append(Row(OK, item, "in the Hugging Face cache"))
            continue
        if net.offline:
            rows.append(Row(FAIL, item, "not in the Hugging Face cache; needs internet (not checked: offline)",
                            "run on a machine with internet (it downloads on first use), or fill the HF cache"))
            continue
        from huggingface_hub import HfApi

        try:
            info = HfApi().model_info(name, timeout=TIMEOUT, expand=["safetensors", "gated"])
        except Exception as err:  # noqa: BLE001
            why = _hub_error(err)
            rows.append(Row(FAIL, item, why, "run on a machine with internet (it downloads on first use), or fill "
                            "the HF cache" if "needs internet" in why else "check the id in the config"))
            continue
        total = getattr(getattr(info, "safetensors", None), "total", None)
        params[name] = total or params[name]
        gated = getattr(info, "gated", False)
        rows.append(Row(WARN if gated else OK, item, "reachable on the hub (downloads on first use)"
                        + (f", {params[name] / 1e6:,.0f}M parameters" if params[name] else "")
                        + ("; gated: accept its licence and log in" if gated else "")))
    return rows, params


def _local_parameters(folder: Path) -> int | None:
    weights = folder / "model.safetensors"
    return weights.stat().st_size // 4 if weights.is_file() else None  # fp32


def trainable_fraction(spec) -> float:
    """Rough share of a run's parameters that train (for the memory and disk estimates)."""
    if spec.method == "finetune":
        return 0.1 if spec.options.get("top_layers") else 1.0
    if spec.method == "adapter":
        return float(spec.options.get("budget", 0.01))
    if spec.method in ("prefix", "infix"):
        return 0.1 if spec.options.get("mid_dim") else 0.01  # the reparametrization MLP while training
    return 0.001  # prompt tuning, LoRA


def memory_need(params: int, spec) -> float:
    """Bytes of GPU memory a run needs (see the module docstring)."""
    trainable = params * trainable_fraction(spec)
    state = (params - trainable) * 4 + trainable * 16
    return state * 1.6 + GIB


def check_gpu(specs, params: dict, scale: str) -> list[Row]:
    sized = [(memory_need(params[s.model_name], s), s) for s in specs if params.get(s.model_name)]
    need, largest = max(sized, key=lambda t: t[0]) if sized else (None, None)
    what = (f"largest run {largest.run_id} needs ~{need / GIB:.0f} GiB (estimate)" if largest else
            "no model size known")
    required = scale == "paper"
    try:
        import torch
    except ImportError:
        return [Row(FAIL if required else WARN, "GPU", "torch is not installed", "make setup")]
    if not torch.cuda.is_available():
        return [Row(FAIL if required else OK, "GPU", f"no CUDA GPU visible; {what}",
                    "run on a machine with a CUDA GPU (paper scale)" if required else "")]
    n = torch.cuda.device_count()
    props = torch.cuda.get_device_properties(0)
    total = props.total_memory
    detail = f"{n} x {props.name}, {total / GIB:.0f} GiB each; {what}{_timing_note(props.name)}"
    if need and need > total:
        return [Row(FAIL, "GPU memory", detail, "a GPU with more memory (or fewer/smaller models in the config)")]
    return [Row(OK, "GPU", detail)]


def _timing_note(gpu: str) -> str:
    from repro.data.fetch import clone_root

    for path in sorted((clone_root() / "results" / "bench").glob("*paper-timing.json")):
        try:
            device = json.loads(path.read_text()).get("device", "")
        except (OSError, ValueError):
            continue
        if device and device.split()[1:2] == gpu.split()[1:2]:
            return f"; paper step times measured on this GPU model: {path.relative_to(clone_root())}"
    return ""


def check_disk(specs, params: dict, results_dir: Path) -> list[Row]:
    from repro.data.fetch import data_dir

    models = sum(4 * (params.get(m) or 0) for m in dict.fromkeys(s.model_name for s in specs)
                 if not m.startswith(("tiny:", "scratch:")) and not Path(m).is_dir())
    artifacts = sum(4 * (params.get(s.model_name) or 0) * trainable_fraction(s) for s in specs)
    checkpoint = max((12 * (params.get(s.model_name) or 0) * trainable_fraction(s) for s in specs), default=0)
    data = 1.5 * GIB if any(s.dataset.startswith("xsum") for s in specs) else 0.2 * GIB
    rows = []
    results_need = artifacts + checkpoint
    for label, path, need in (("disk (results)", results_dir, results_need), ("disk (data)", data_dir(), data),
                              ("disk (HF cache)", _hf_cache(), models)):
        where = _existing_parent(path)
        free = shutil.disk_usage(where).free
        detail = f"{free / GIB:,.0f} GiB free at {where}; needs ~{need / GIB:,.1f} GiB"
        if label == "disk (results)":
            detail += f" ({len(specs)} runs' artifacts + one checkpoint)"
        rows.append(Row(OK if free > need else FAIL, label, detail, "" if free > need else "free space, or point "
                        "--results-dir / REPRO_DATA_DIR / HF_HOME elsewhere"))
    return rows


def _hf_cache() -> Path:
    try:
        from huggingface_hub import constants

        return Path(constants.HF_HUB_CACHE)
    except ImportError:
        return Path.home() / ".cache" / "huggingface"


def _existing_parent(path: Path) -> Path:
    path = Path(path).resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_java(specs) -> list[Row]:
    needing = sorted({s.dataset for s in specs} & JAVA_DATASETS)
    if not needing:
        return [Row(OK, "Java", "not needed (no METEOR/TER scoring in these runs)")]
    from repro.metrics.errors import MetricToolError
    from repro.metrics.java import java_executable, meteor_jar

    try:
        java = java_executable()
        meteor_jar()
    except MetricToolError as err:
        return [Row(FAIL, "Java", f"{err} (scores {', '.join(needing)})",
                    "install a JRE >= 8 (e.g. apt-get install default-jre-headless), or set $JAVA")]
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=15)
        version = (out.stderr or out.stdout).splitlines()[0] if (out.stderr or out.stdout) else "?"
    except (OSError, subprocess.TimeoutExpired) as err:
        return [Row(FAIL, "Java", f"{java} does not run ({err.__class__.__name__})", "reinstall the JRE")]
    return [Row(OK, "Java", f"{version.strip()} ({java}); METEOR jar found")]


def check_results(results_dir: Path) -> list[Row]:
    return [_writable(results_dir, "results dir", "pass --results-dir (RESULTS_DIR=) pointing at a writable folder")]


# ---------------------------------------------------------------------------------------------


def doctor(reproduction: str, scale: str, results_dir: str | Path = "results", offline: bool = False,
           datasets: list[str] | None = None) -> list[Row]:
    from repro.config import load_reproduction

    repro_config = load_reproduction(reproduction)
    specs = repro_config.runs(scale, datasets)
    net = Network(offline)
    rows = []
    reason = repro_config.known_failure(scale)
    if reason:
        rows.append(Row(WARN, "scale", f"{reproduction} at {scale} is marked known_failure: "
                        f"{' '.join(reason.split())[:120]}"))
    rows += check_data(specs, net)
    model_rows, params = check_models(specs, net)
    rows += model_rows
    rows += check_gpu(specs, params, scale)
    rows += check_disk(specs, params, Path(results_dir))
    rows += check_java(specs)
    rows += check_results(Path(results_dir))
    return rows


def format_table(rows: list[Row]) -> str:
    width = max(len(r.item) for r in rows)
    lines = []
    for r in rows:
        line = f"{r.status} {r.item:<{width}}  {r.detail}"
        if r.fix:
            line += f"\n  {'':<{width}}  fix: {r.fix}"
        lines.append(line)
    return "\n".join(lines)


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "doctor", help="preflight: data, models, GPU memory, disk, Java, results dir (seconds)",
        description="Check, before a long run, everything the runs of one reproduction at one scale need. "
                    "Prints one table (✓ fine, ✗ blocks, ! note) with the fix for each problem; exit status 1 "
                    "if anything blocks.")
    parser.add_argument("--reproduction", required=True)
    parser.add_argument("--scale", required=True)
    parser.add_argument("--dataset", action="append", help="only this dataset (repeatable)")
    parser.add_argument("--results-dir", default="results")
    parser.add_argument("--offline", action="store_true", help="do not touch the network (network items: needs internet)")
    parser.set_defaults(func=_command)


def _command(args) -> int:
    rows = doctor(args.reproduction, args.scale, args.results_dir, args.offline, args.dataset)
    print(f"repro doctor: {args.reproduction} at scale {args.scale}")
    print(format_table(rows))
    blocking = [r for r in rows if r.blocks]
    offline = [r for r in blocking if "needs internet" in r.detail]
    if blocking:
        print(f"{len(blocking)} item(s) block the runs" + (f" ({len(offline)} of them only need internet)"
                                                          if offline else ""), file=sys.stderr)
        return 1
    print("ready")
    return 0
