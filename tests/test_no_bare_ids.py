"""No bare (namespace-less) hub id anywhere: the hub client in the venv refuses them
("Repository id must be 'namespace/name'"), so one left in the code is a paper-scale run that dies
at loading. Checks the source (every literal id passed to a hub call, and the ids that were there),
the catalog and every reproduction config's models."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from repro.data import catalog

REPO = Path(__file__).resolve().parents[1]
SOURCES = sorted((REPO / "src").rglob("*.py"))
#: calls whose first argument (or repo_id=) is a hub repository id
HUB_CALLS = {"load_dataset", "hf_hub_download", "snapshot_download", "from_pretrained", "model_info", "dataset_info",
             "list_repo_tree", "list_repo_files", "hf_hub_url", "HubSplit", "hub_split", "try_to_load_from_cache"}
#: bare dataset ids the code used before (now aps/super_glue, the original E2E / WebNLG files,
#: Salesforce/wikitext) and the usual suspect: never a string of their own in src/ (model-size labels
#: such as "gpt2-medium" name random-weight shapes in bench.py / paper_timing.py, so models are checked
#: where they are loaded: the hub calls below and the configs)
KNOWN_BARE = {"super_glue", "e2e_nlg", "web_nlg", "wikitext", "glue"}
LOCAL = ("tiny:", "scratch:", "models/", "./", "/")


def _call_name(node: ast.Call) -> str:
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _literal_ids(node: ast.Call):
    args = node.args[:1] + [k.value for k in node.keywords if k.arg in ("repo_id", "path", "pretrained_model_name_or_path")]
    for arg in args:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            yield arg.value


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_bare_hub_id_in_the_source(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _call_name(node) in HUB_CALLS:
            for value in _literal_ids(node):
                if "/" not in value and not value.startswith(LOCAL):
                    problems.append(f"line {node.lineno}: {_call_name(node)}({value!r})")
        if isinstance(node, ast.Constant) and node.value in KNOWN_BARE:
            problems.append(f"line {node.lineno}: bare id {node.value!r}")
    assert not problems, "\n".join(problems)


def test_the_catalog_uses_namespaced_hub_datasets_only():
    assert catalog.hub_repos() == {"aps/super_glue", "EdinburghNLP/xsum", "Yale-LILY/dart"}
    with pytest.raises(ValueError, match="namespace"):
        catalog.HubSplit("super_glue", "main", "boolq", "train", "x", 1)


@pytest.mark.parametrize("config", sorted((REPO / "reproductions").glob("*/config.yaml")),
                         ids=lambda p: p.parent.name)
def test_every_model_in_every_config_is_namespaced_or_local(config):
    raw = yaml.safe_load(config.read_text())
    for scale, block in raw["scales"].items():
        for row, name in (block.get("models") or {}).items():
            assert "/" in name or name.startswith(LOCAL), f"{config.parent.name} {scale} {row}: bare hub id {name!r}"
