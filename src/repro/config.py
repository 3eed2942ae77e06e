"""Reproduction configs: one YAML file per reproduction, expanded into runs.

A reproduction (``reproductions/<name>/config.yaml``) names the table it reproduces and, per
scale, what to run. Every run is one (dataset, model row, method row, seed):

```yaml
name: table2_table_to_text
title: ...
compare_to: {...}                  # read by repro.reporting.report
datasets: [e2e, webnlg, dart]
rows:                              # registry method name -> method and options
  "PREFIX(0.1%)": {method: prefix, options: {mid_dim: 512}}
models:                            # registry model name -> the rows it runs (the paper's layout)
  "GPT-2 Medium": ["PREFIX(0.1%)", ...]
decode: {num_beams: 5, ...}        # generation options shared by all scales (a scale may override);
                                   # a {dataset: {...}} entry overrides them for one dataset
scales:
  smoke: {models: {"GPT-2 Medium": "tiny:gpt2"}, seeds: [101], train: {...}, limits: {...}}
  mini:  {models: {"GPT-2 Medium": models/gpt2-mini, "control": "scratch:models/gpt2-mini"},
          model_datasets: {"control": [e2e]}, ...}   # a model row restricted to some datasets
  paper: {models: {"GPT-2 Medium": gpt2-medium, ...}, hyperparameters: {e2e: {"PREFIX(0.1%)": {...}}}}
```

`limits` values are numbers for every dataset or {dataset: number}; `train_split` / `eval_split` are
split names for every dataset or {dataset: split} (defaults train / test); `train_subset` / `eval_subset`
say whether the first N or a fixed random N are kept (repro.runner.load_data); `truncate_eval_sources:
false` leaves decoding inputs uncut by `max_source_tokens` (T5X's infer_eval; training sources are still cut).
`token_layout` (a scale key: one value or {dataset: value}) is `joined` (default) or `reference`: how a
decoder's text is encoded around its end-of-sequence tokens (`repro.batches`). A decode block's
`length_normalization` is `generated` or `full_sequence` (`repro.decoding`).
`hyperparameters[dataset][row]` may hold training fields (`repro.train.TrainConfig`) and method
options; they override the scale's `train` block and the row's options. Its `seeds` replaces the
scale's seeds for that row (a row no claim compares may run fewer). Unknown keys anywhere are
errors that list the valid keys, as is a scale or dataset the reproduction does not define.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from repro.methods import METHODS, ConfigError
from repro.models import SCRATCH_PREFIX
from repro.train import TrainConfig

# a reproduction's `ensemble:` block (run by repro.ensemble; checked here with the rest of the config,
# so that config -> ensemble -> runner -> config is no import circle)
ENSEMBLE_KEYS = {"size", "rows"}
ENSEMBLE_ROWS = ("average", "best", "vote")


def check_ensemble(spec: dict, name: str) -> None:
    unknown = sorted(set(spec) - ENSEMBLE_KEYS)
    if unknown or not isinstance(spec.get("size"), int) or spec["size"] < 2 or \
            sorted(spec.get("rows") or {}) != sorted(ENSEMBLE_ROWS):
        raise ConfigError(f"{name}: ensemble needs exactly {{size: n >= 2, rows: {{average, best, vote: registry "
                          f"method name}}}}; got {spec}")

REPO = Path(__file__).resolve().parents[2]
REPRODUCTIONS_DIR = REPO / "reproductions"
SCALES = ("smoke", "mini", "paper")
TOP_KEYS = {"name", "title", "compare_to", "datasets", "rows", "models", "decode", "scales", "notes", "claims",
            "ensemble"}
SCALE_KEYS = {"models", "model_datasets", "seeds", "train", "limits", "decode", "hyperparameters", "datasets", "eval_split",
              "train_split", "notes", "lowdata", "known_failure", "token_layout"}
LOWDATA_KEYS = {"sizes", "samples", "train"}
ROW_KEYS = {"method", "options", "source_prefix"}
LIMIT_KEYS = {"train_pairs", "train_subset", "eval_inputs", "eval_subset", "max_source_tokens", "max_target_tokens",
              "truncate_eval_sources"}
SUBSETS = ("first", "random")
TRAIN_KEYS = {f.name for f in dataclasses.fields(TrainConfig)}


def _check_keys(where: str, given: dict, allowed: set):
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; valid keys: {sorted(allowed)}")


@dataclass(frozen=True)
class RunSpec:
    """Everything one run needs, fully resolved (saved as the run's config.json)."""

    reproduction: str
    scale: str
    dataset: str
    model_row: str  # registry model name, e.g. "GPT-2 Medium"
    model_name: str  # what is loaded: hub name, local path, or tiny:gpt2 / tiny:bart
    row: str  # registry method name, e.g. "PREFIX(0.1%)"
    method: str
    options: dict
    train: dict
    decode: dict
    limits: dict
    seed: int
    eval_split: str = "test"
    train_split: str = "train"
    # text put in front of every source, in training and decoding (`repro.batches.Collator`): the
    # reference's low-data fine-tuning inputs ' {lowdata_token} {src}' (implementation_notes §4.1)
    source_prefix: str = ""
    # how a decoder's text is encoded around <eos> (repro.batches.TOKEN_LAYOUTS): "joined", or "reference"
    # (the ids transformers 3.2 gives the reference's ' {x} {eos} {y} {eos}': a space token before each <eos>)
    token_layout: str = "joined"

    @property
    def run_id(self) -> str:
        model = Path(self.model_name.removeprefix(SCRATCH_PREFIX)).name.replace(":", "-")
        if self.model_name.startswith(SCRATCH_PREFIX):  # the random-init control of a local model
            model = "scratch-" + model
        row = "".join(c if c.isalnum() else "-" for c in self.row.lower()).strip("-")
        while "--" in row:
            row = row.replace("--", "-")
        lowdata = (f"-n{self.limits['lowdata_size']}-sample{self.limits['lowdata_sample']}"
                   if "lowdata_size" in self.limits else "")
        return f"{self.dataset}-{model}-{row}{lowdata}-seed{self.seed}"

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        if not d["source_prefix"]:  # omitted when unused: runs made before the field existed keep their fingerprint
            del d["source_prefix"]
        if d["token_layout"] == "joined":  # likewise
            del d["token_layout"]
        return {**d, "run_id": self.run_id}

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:16]

    def compute_key(self) -> str:
        """What decides the run's numbers: its resolved config without the labels (reproduction, row and
        model-row names). Runs with one key compute the same thing, so repro.runner computes them once."""
        return compute_key_of(self.to_dict())


LABEL_FIELDS = ("reproduction", "row", "model_row", "run_id", "fingerprint")


def compute_key_of(resolved: dict) -> str:
    """`RunSpec.compute_key` of a run directory's config.json. Method options count as resolved (with
    their defaults), so {prefix_length: 5} and {prefix_length: 5, mid_dim: 512} are one run."""
    unlabelled = {k: v for k, v in resolved.items() if k not in LABEL_FIELDS}
    if unlabelled.get("method") in METHODS:
        try:
            config = METHODS[unlabelled["method"]].config_class.from_dict(dict(unlabelled.get("options") or {}))
            unlabelled["options"] = config.to_dict()
        except (ConfigError, TypeError):
            pass
    return hashlib.sha256(json.dumps(unlabelled, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class Reproduction:
    name: str
    raw: dict = field(repr=False)
    path: Path | None = None

    @property
    def scales(self) -> list[str]:
        return list(self.raw["scales"])

    def known_failure(self, scale: str) -> str | None:
        """Why this scale is known not to give meaningful numbers (the scale's `known_failure`), or None."""
        return (self.raw["scales"].get(scale) or {}).get("known_failure")

    def runs(self, scale: str, datasets: list[str] | None = None) -> list[RunSpec]:
        if scale not in self.raw["scales"]:
            raise ConfigError(f"reproduction {self.name!r} defines scales {self.scales}, not {scale!r}")
        sc = self.raw["scales"][scale]
        defined = sc.get("datasets", self.raw["datasets"])
        for d in datasets or []:
            if d not in defined:
                raise ConfigError(f"reproduction {self.name!r} at scale {scale!r} defines datasets {defined}, not {d!r}")
        specs = []
        for dataset in datasets or defined:
            for model_row, path in sc["models"].items():
                if dataset not in (sc.get("model_datasets") or {}).get(model_row, [dataset]):
                    continue
                for row in self.raw["models"][model_row]:
                    row_spec = self.raw["rows"][row]
                    extra = dict((sc.get("hyperparameters") or {}).get(dataset, {}).get(row, {}))
                    seeds = extra.pop("seeds", sc.get("seeds", [101]))  # a row no claim compares may run fewer
                    train = {**sc.get("train", {}), **{k: v for k, v in extra.items() if k in TRAIN_KEYS}}
                    options = {**row_spec.get("options", {}), **{k: v for k, v in extra.items() if k not in TRAIN_KEYS}}
                    options = with_class_labels(row_spec["method"], options, dataset)
                    limits = dataset_limits(sc.get("limits", {}), dataset)
                    for size, sample, size_train in lowdata_grid(sc.get("lowdata"), dataset, row):
                        for seed in seeds:
                            specs.append(RunSpec(
                                reproduction=self.name, scale=scale, dataset=dataset, model_row=model_row,
                                model_name=str(path), row=row, method=row_spec["method"], options=options,
                                train={**train, **size_train, "seed": seed},
                                decode={**dataset_decode(self.raw.get("decode", {}), dataset),
                                        **dataset_decode(sc.get("decode", {}), dataset)},
                                limits={**limits, **({"lowdata_size": size, "lowdata_sample": sample} if size else {})},
                                seed=seed, eval_split=dataset_split(sc.get("eval_split"), dataset, "test"),
                                train_split=dataset_split(sc.get("train_split"), dataset, "train"),
                                source_prefix=dataset_split(row_spec.get("source_prefix"), dataset, ""),
                                token_layout=dataset_split(sc.get("token_layout"), dataset, "joined")))
        return specs


def lowdata_grid(lowdata: dict | None, dataset: str, row: str) -> list[tuple[int | None, int | None, dict]]:
    """(training-set size, sample number, training overrides) per low-data run of one row:
    `lowdata: {sizes: [50, ...], samples: 5, train: {dataset: {row: {size: {max_steps: ...}}}}}`
    (Li & Liang §6.3 / Table 8; the sets come from repro.data.lowdata). Without it: one plain run."""
    if not lowdata:
        return [(None, None, {})]
    per_size = ((lowdata.get("train") or {}).get(dataset) or {}).get(row) or {}
    return [(size, sample, dict(per_size.get(size, {})))
            for size in lowdata["sizes"] for sample in range(lowdata.get("samples", 1))]


def with_class_labels(method: str, options: dict, dataset: str) -> dict:
    """Prompt tuning's class-label init (Lester et al. §3.2) on a SuperGLUE task: when the config
    names no `class_labels`, they are the task's label words (repro.data.superglue.TASKS).
    ReCoRD and WSC have none (their answers are passage entities / noun phrases): with zero labels
    the init is what the class-label init gives the positions past the labels, sampled vocabulary,
    and the run's options say so (`init: sampled_vocab`)."""
    from repro.data.superglue import RECORD, TASKS, WSC

    if method != "prompt" or options.get("init") != "class_labels" or options.get("class_labels"):
        return options
    if dataset in (RECORD, WSC):
        return {**options, "init": "sampled_vocab"}
    if dataset not in TASKS:
        raise ConfigError(f"init: class_labels on {dataset!r} needs explicit class_labels (label words are "
                          f"known only for the SuperGLUE tasks {sorted(TASKS)})")
    return {**options, "class_labels": list(TASKS[dataset].labels)}


def dataset_decode(decode: dict, dataset: str) -> dict:
    """A decode block for one dataset: its shared options, then those under the dataset's own key
    (e.g. `decode: {num_beams: 5, xsum: {num_beams: 6, length_penalty: 0.8}}`)."""
    shared = {k: v for k, v in decode.items() if not isinstance(v, dict)}
    return {**shared, **decode.get(dataset, {})}


def dataset_split(value: str | dict | None, dataset: str, default: str) -> str:
    """A scale's `train_split` / `eval_split`: one split name for all datasets or {dataset: split}."""
    if isinstance(value, dict):
        return value.get(dataset, default)
    return value or default


def dataset_limits(limits: dict, dataset: str) -> dict:
    """A scale's limits for one dataset: each value is a number (all datasets) or {dataset: number}."""
    resolved = {k: v.get(dataset) if isinstance(v, dict) else v for k, v in limits.items()}
    return {k: v for k, v in resolved.items() if v is not None}


def validate(raw: dict, name: str) -> None:
    _check_keys(f"reproduction {name}", raw, TOP_KEYS)
    for key in ("datasets", "rows", "models", "scales"):
        if key not in raw:
            raise ConfigError(f"reproduction {name}: missing key {key!r}")
    for row, spec in raw["rows"].items():
        _check_keys(f"{name}: row {row!r}", spec, ROW_KEYS)
        if spec.get("method") not in METHODS:
            raise ConfigError(f"{name}: row {row!r} has method {spec.get('method')!r}; choose one of {sorted(METHODS)}")
        prefix = spec.get("source_prefix", "")
        if not (isinstance(prefix, str) or isinstance(prefix, dict) and all(
                d in raw["datasets"] and isinstance(t, str) for d, t in prefix.items())):
            raise ConfigError(f"{name}: row {row!r} source_prefix must be a text or {{dataset: text}} over the "
                              f"datasets {raw['datasets']}, not {prefix!r}")
        options = dict(spec.get("options", {}))
        if spec["method"] == "prompt" and options.get("init") == "class_labels" and not options.get("class_labels"):
            options["class_labels"] = ["label"]  # filled per dataset by with_class_labels
        METHODS[spec["method"]].config_class.from_dict(options)  # unknown options fail here
    if "ensemble" in raw:
        check_ensemble(raw["ensemble"], name)
    for model_row, rows in raw["models"].items():
        missing = [r for r in rows if r not in raw["rows"]]
        if missing:
            raise ConfigError(f"{name}: model {model_row!r} lists rows {missing} that are not under 'rows'")
    for where, decode in [("decode", raw.get("decode", {}))] + [
            (f"scale {k!r} decode", v.get("decode", {})) for k, v in raw["scales"].items() if isinstance(v, dict)]:
        nested = sorted(k for k, v in decode.items() if isinstance(v, dict) and k not in raw["datasets"])
        if nested:
            raise ConfigError(f"{name}: {where} has per-dataset blocks {nested} for datasets the reproduction "
                              f"does not define; it defines {raw['datasets']}")
        check_length_normalization(f"{name}: {where}", decode)
    for scale, sc in raw["scales"].items():
        if scale not in SCALES:
            raise ConfigError(f"{name}: scale {scale!r} is not one of {SCALES}")
        _check_keys(f"{name}: scale {scale!r}", sc, SCALE_KEYS)
        if "known_failure" in sc and not (isinstance(sc["known_failure"], str) and sc["known_failure"].strip()):
            raise ConfigError(f"{name}: scale {scale!r} known_failure must say why the scale fails (a string)")
        _check_keys(f"{name}: scale {scale!r} train", sc.get("train", {}), TRAIN_KEYS)
        check_token_layout(f"{name}: scale {scale!r}", sc.get("token_layout"), raw["datasets"])
        _check_keys(f"{name}: scale {scale!r} limits", sc.get("limits", {}), LIMIT_KEYS)
        if sc.get("lowdata") is not None:
            low = sc["lowdata"]
            _check_keys(f"{name}: scale {scale!r} lowdata", low, LOWDATA_KEYS)
            if not low.get("sizes") or any(not isinstance(n, int) or n <= 0 for n in low["sizes"]):
                raise ConfigError(f"{name}: scale {scale!r} lowdata.sizes must be positive integers, e.g. [50, 100]")
            for dataset, rows in (low.get("train") or {}).items():
                for row, sizes in rows.items():
                    if row not in raw["rows"] or set(sizes) - set(low["sizes"]):
                        raise ConfigError(f"{name}: scale {scale!r} lowdata.train[{dataset}][{row}]: rows must be "
                                          f"among {sorted(raw['rows'])} and sizes among {low['sizes']}")
                    for values in sizes.values():
                        _check_keys(f"{name}: lowdata.train[{dataset}][{row}]", values, TRAIN_KEYS)
        for key, value in sc.get("limits", {}).items():
            values = value if isinstance(value, dict) else {}  # {dataset: value}, or one value for all
            unknown = sorted(set(values) - set(raw["datasets"]))
            if unknown:
                raise ConfigError(f"{name}: scale {scale!r} limits.{key} names datasets {unknown}; "
                                  f"the reproduction defines {raw['datasets']}")
            if key.endswith("_subset") and set(values.values() if values else [value]) - set(SUBSETS):
                raise ConfigError(f"{name}: scale {scale!r} limits.{key} must be one of {SUBSETS}")
        unknown_models = sorted(set(sc.get("models", {})) - set(raw["models"]))
        if unknown_models or not sc.get("models"):
            raise ConfigError(f"{name}: scale {scale!r} models {unknown_models or '(none)'}; "
                              f"choose among {sorted(raw['models'])}")
        for model_row, only in (sc.get("model_datasets") or {}).items():
            if model_row not in sc["models"] or set(only) - set(sc.get("datasets", raw["datasets"])):
                raise ConfigError(f"{name}: scale {scale!r} model_datasets[{model_row!r}] = {only}: name a model of "
                                  f"this scale {sorted(sc['models'])} and datasets among {raw['datasets']}")
        for dataset, rows in (sc.get("hyperparameters") or {}).items():
            for row, values in rows.items():
                if row not in raw["rows"]:
                    raise ConfigError(f"{name}: hyperparameters for unknown row {row!r} ({dataset})")
                method_cls = METHODS[raw["rows"][row]["method"]]
                allowed = TRAIN_KEYS | {f.name for f in dataclasses.fields(method_cls.config_class)} | {"seeds"}
                _check_keys(f"{name}: hyperparameters[{dataset}][{row}]", values, allowed)
                if "seeds" in values and not (isinstance(values["seeds"], list) and values["seeds"]):
                    raise ConfigError(f"{name}: hyperparameters[{dataset}][{row}].seeds must be a non-empty list")


def check_length_normalization(where: str, decode: dict) -> None:
    """A decode block's `length_normalization` (shared or per dataset) names a rule repro.decoding has."""
    from repro.decoding import LENGTH_NORMALIZATIONS

    for block, options in [("", decode)] + [(f" {k}", v) for k, v in decode.items() if isinstance(v, dict)]:
        rule = options.get("length_normalization", "generated")
        if rule not in LENGTH_NORMALIZATIONS:
            raise ConfigError(f"{where}{block}: length_normalization={rule!r}; choose one of {LENGTH_NORMALIZATIONS}")


def check_token_layout(where: str, value, datasets: list[str]) -> None:
    """A scale's `token_layout`: one of repro.batches.TOKEN_LAYOUTS, or {dataset: layout}."""
    from repro.batches import TOKEN_LAYOUTS

    if value is None:
        return
    values = value if isinstance(value, dict) else {"(all)": value}
    unknown = sorted(set(values) - set(datasets) - {"(all)"})
    bad = sorted(str(v) for v in values.values() if v not in TOKEN_LAYOUTS)
    if unknown or bad:
        raise ConfigError(f"{where}: token_layout must be one of {TOKEN_LAYOUTS} or {{dataset: layout}} over "
                          f"{datasets}; got {value!r}")


def load_reproduction(name_or_path: str) -> Reproduction:
    path = Path(name_or_path)
    if not path.suffix:
        path = REPRODUCTIONS_DIR / name_or_path / "config.yaml"
    if not path.exists():
        known = sorted(p.parent.name for p in REPRODUCTIONS_DIR.glob("*/config.yaml"))
        raise ConfigError(f"no reproduction config at {path}; known reproductions: {known}")
    raw = yaml.safe_load(path.read_text())
    name = raw.get("name") or path.parent.name
    validate(raw, name)
    return Reproduction(name=name, raw=raw, path=path)


def train_config(spec: RunSpec) -> TrainConfig:
    return TrainConfig(**spec.train)


def limits(spec: RunSpec) -> dict[str, Any]:
    return spec.limits
