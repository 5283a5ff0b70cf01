"""Dry run of a profile here, before a machine that can run it is at hand.

    python -m kosparse.dryrun gb10          # prints the report as JSON; exit 2 on the first error

Without network or GPU it
1. merges the profile into params.yaml (an unknown key is an error);
2. lets DVC resolve every stage of dvc.yaml against the merged params, so each
   `${...}` a stage uses exists;
3. checks each data source (kind, and an online home where it must load online);
4. builds the LLM backend when it needs no weights (the openai client pool:
   no request is sent) and checks the llama.cpp / transformers settings;
5. checks the training and distillation sections as 12_train does before it trains;
6. lists every model id that the run will download (not offline, not a path).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path

import yaml

from kosparse.data.sources import KINDS
from kosparse.errors import KosparseError
from kosparse.io import load_params
from kosparse.model.distill import check_distill_config
from kosparse.model.training import check_train_config
from kosparse.models import OFFLINE
from kosparse.profiles import apply_profile, load_profile


def resolved_stages(repo_dir: Path, params: dict) -> dict[str, str]:
    """stage name → its command, as DVC resolves dvc.yaml with these params."""
    from dvc.repo import Repo

    logging.getLogger("dvc").setLevel(logging.WARNING)  # Repo.init announces itself on stdout
    with tempfile.TemporaryDirectory(prefix="kosparse-dryrun-") as tmp:
        Repo.init(tmp, no_scm=True)
        (Path(tmp) / "dvc.yaml").write_bytes((repo_dir / "dvc.yaml").read_bytes())
        (Path(tmp) / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
        with Repo(tmp) as repo:
            return {stage.name: stage.cmd for stage in repo.index.stages}


def check_sources(collect: dict) -> dict[str, str]:
    """source name → where it will load from; an error for a source that cannot load."""
    where = {}
    for name, src in collect["sources"].items():
        if src.get("kind") not in KINDS:
            raise KosparseError(f"collect.sources.{name}.kind = {src.get('kind')!r}: expected one of {KINDS}")
        online = src.get("online") or {}
        if online and not (online.get("hf") or online.get("url")):
            raise KosparseError(f"collect.sources.{name}.online names neither `hf` nor `url`")
        if online.get("hf"):
            config = f" ({online['config']})" if online.get("config") else ""
            home = f"hf:{online['hf']}{config} {online.get('splits', ['train'])}"
        else:
            home = online.get("url")
        if src.get("mirror_file") and not (collect["prefer_online"] and home):
            where[name] = f"mirror {collect['mirror_dir']}/{src['mirror_file']}"
        elif home:
            where[name] = home
        else:
            raise KosparseError(f"collect.sources.{name}: neither a mirror_file nor an online home")
    return where


def needs_download(model_id: str) -> bool:
    return model_id not in OFFLINE and not Path(model_id).expanduser().exists()


def check_llm(llm: dict) -> dict:
    from kosparse.llm.backends import load_backend

    kind = llm["backend"]
    report = {"backend": kind, "model": llm["model"]}
    if kind == "openai":
        backend = load_backend(llm)  # clients only; nothing is sent
        report.update(servers=len(backend.clients), concurrent_requests=backend.workers)
    elif kind == "llama_cpp":
        layers = llm["llama_cpp"]["n_gpu_layers"]
        if layers not in ("all", "none") and not isinstance(layers, int):
            raise KosparseError(f"llm.llama_cpp.n_gpu_layers = {layers!r}: all, none or a number of layers")
        report["n_gpu_layers"] = layers
    elif kind == "transformers":
        report["device_map"] = llm["transformers"].get("device_map")
        report["max_memory"] = llm["transformers"].get("max_memory")
    else:
        raise KosparseError(f"llm.backend = {kind!r}: choose llama_cpp, openai or transformers")
    return report


def dry_run(repo_dir: str | Path, profile: str | None) -> dict:
    repo_dir = Path(repo_dir)
    params = load_params(repo_dir / "params.yaml")
    if profile:
        params = apply_profile(params, load_profile(profile, repo_dir / "profiles"))
    stages = resolved_stages(repo_dir, params)
    check_train_config(params["train"])
    check_distill_config(params["distill"])
    models = {
        "tokenizer": params["tokenizer"].get("name"),
        "base encoder": params["base"]["name"],
        "llm": params["llm"]["model"],
        "synonym embeddings": params["synonyms"]["embedding"]["model"],
        "distillation teacher": params["distill"]["teacher"],
    }
    return {
        "profile": profile or "default",
        "stages": sorted(stages),
        "sources": check_sources(params["collect"]),
        "llm": check_llm(params["llm"]),
        "train": {
            "examples_seen": params["train"]["max_steps"] * params["train"]["batch_size"],
            "bf16": params["train"]["bf16"],
        },
        "downloads": {
            role: model_id
            for role, model_id in models.items()
            if model_id and model_id != "scratch" and needs_download(model_id)
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", nargs="?", help="a profiles/<name>.yaml (default: params.yaml as it is)")
    args = parser.parse_args()
    try:
        report = dry_run(".", args.profile)
    except KosparseError as e:
        sys.exit(f"error: {e}")
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
