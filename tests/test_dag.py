"""Selective re-runs, proven with DVC itself on the real dvc.yaml and params.yaml.

A temporary copy of the repository gets one small placeholder for every stage
output, `dvc commit` records them in a fresh dvc.lock, and then one param is
changed. Each round, every stage `dvc status` reports as changed is "re-run"
(its outputs get new bytes) and committed, until the status is clean. The
stages touched are exactly those `dvc repro` would run, with the worst case
assumed at every step: a re-run stage always changes its outputs.
"""

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, SHARED_DATASETS

V1_SIDE = {"train@v1", "encode@v1", "evaluate@v1", "export@v1", "teacher_scores", "train_distill", "export@v1_distill",
           "mix_real@v1_adapt", "train@v1_adapt", "encode@v1_adapt", "evaluate@v1_adapt"}  # fmt: skip
V2_ADAPT_SIDE = {"mix@v2_adapt", "train@v2_adapt", "query_idf@v2_adapt", "encode@v2_adapt", "evaluate@v2_adapt"}


def _dvc(repo: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=repo, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"dvc {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _placeholder(path: Path, content: str) -> None:
    """Append `content` to a file path (it has a suffix), or to every file of a folder (at least one)."""
    targets = [path] if path.suffix else [p for p in path.rglob("*") if p.is_file()] or [path / "placeholder.txt"]
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a", encoding="utf-8") as f:
            f.write(content + "\n")


def _stage_paths(repo: Path) -> dict[str, tuple[list[Path], list[Path]]]:
    from dvc.repo import Repo

    with Repo(str(repo)) as dvc_repo:
        return {
            stage.name: (
                [Path(d.fs_path) for d in stage.deps],
                [Path(o.fs_path) for o in stage.outs],
            )
            for stage in dvc_repo.index.stages
        }


def _changed_stages(repo: Path) -> set[str]:
    return set(json.loads(_dvc(repo, "status", "--json") or "{}"))


def _set_param(repo: Path, dotted: str, value) -> None:
    params_path = repo / "params.yaml"
    params = yaml.safe_load(params_path.read_text(encoding="utf-8"))
    *parents, leaf = dotted.split(".")
    node = params
    for key in parents:
        node = node[key]
    assert leaf in node, f"params.yaml has no {dotted}"
    node[leaf] = value
    params_path.write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _rerun_after(repo: Path, dotted: str, value) -> set[str]:
    _set_param(repo, dotted, value)
    paths = _stage_paths(repo)
    rerun: set[str] = set()
    for round_number in range(len(paths)):
        changed = _changed_stages(repo)
        if not changed:
            return rerun
        for stage in changed:
            for out in paths[stage][1]:
                _placeholder(out, f"re-run {round_number}")
        _dvc(repo, "commit", "--force", *sorted(changed))
        rerun |= changed
    raise AssertionError(f"dvc status never settled; stages re-run so far: {sorted(rerun)}")


@pytest.fixture
def committed_copy(tmp_path) -> Path:
    """The repo's tracked files in a temp folder beside a link to the shared data, every stage committed."""
    repo = tmp_path / "repo"
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    for rel in filter(None, tracked):
        if (REPO / rel).is_file() and rel != "dvc.lock":
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, repo / rel)
    # dvc.yaml names the mirror as ../shared/datasets (params collect.mirror_dir)
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "datasets").symlink_to(SHARED_DATASETS)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    for stage, (deps, outs) in _stage_paths(repo).items():
        for path in deps + outs:
            if not path.exists():
                _placeholder(path, f"first run of {stage}")
    _dvc(repo, "commit", "--force")
    assert _changed_stages(repo) == set(), "a fresh commit should leave nothing to re-run"
    return repo


@pytest.mark.slow
def test_changing_the_synthetic_ratio_reruns_only_the_v2_side(committed_copy):
    rerun = _rerun_after(committed_copy, "mix.v2.synthetic_ratio", 0.5)
    v2_side = {"mix@v2", "train@v2", "query_idf@v2", "encode@v2", "evaluate@v2", "encode@v2_expanded",
               "evaluate@v2_expanded", "export@v2", "compare", "report"}  # fmt: skip
    assert rerun == v2_side | {"evaluate_codeswitch"}  # it evaluates served v1 and v2 side by side


@pytest.mark.slow
def test_changing_the_llm_reruns_synthesis_verification_and_their_followers_only(committed_copy):
    rerun = _rerun_after(committed_copy, "llm.temperature", 0.3)
    assert not rerun & V1_SIDE, f"the LLM must not reach v1: {sorted(rerun & V1_SIDE)}"
    llm_stages = {"synthesize", "verify_synonyms"}
    v2_from_new_synthetic_data = {"mix@v2", "train@v2", "query_idf@v2", "encode@v2", "evaluate@v2", "export@v2",
                                  "compare", "report", "expand", "encode@v2_expanded", "evaluate@v2_expanded",
                                  *V2_ADAPT_SIDE, "experiments"}  # fmt: skip
    from_new_enhanced_dictionary = {"synonyms_eval", "evaluate_codeswitch"}
    assert rerun == llm_stages | v2_from_new_synthetic_data | from_new_enhanced_dictionary


@pytest.mark.slow
def test_changing_the_adaptation_sources_reruns_only_the_adaptation_pair(committed_copy):
    rerun = _rerun_after(committed_copy, "mix.v1_adapt.real_sources", ["msmarco_ko"])
    v1_adapt = {"mix_real@v1_adapt", "train@v1_adapt", "query_idf@v1_adapt", "encode@v1_adapt", "evaluate@v1_adapt"}
    assert rerun == v1_adapt | {"experiments"}


@pytest.mark.slow
def test_changing_the_distillation_loss_reruns_only_the_distilled_variant(committed_copy):
    rerun = _rerun_after(committed_copy, "distill.loss", "kl")
    distilled = {"train_distill", "query_idf@v1_distill", "encode@v1_distill", "evaluate@v1_distill",
                 "export@v1_distill"}  # fmt: skip
    assert rerun == distilled | {"experiments"}


def _imported_kosparse_modules(path: Path) -> set[str]:
    """kosparse modules a file imports anywhere in it (top level or inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "kosparse":
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}  # `from kosparse.llm import prompts`
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.startswith("kosparse.")}
    return {n for n in names if (REPO / f"{n.replace('.', '/')}.py").is_file()}


def import_closure(script: Path) -> set[str]:
    """Repo-relative paths of every kosparse module `script` imports, directly or transitively."""
    seen, todo = set(), [script]
    while todo:
        for name in _imported_kosparse_modules(todo.pop()):
            rel = f"{name.replace('.', '/')}.py"
            if rel not in seen:
                seen.add(rel)
                todo.append(REPO / rel)
    return seen


EXPERIMENT_STAGES = {"teacher_scores", "train_distill", "query_idf@v1_distill", "encode@v1_distill",
                     "evaluate@v1_distill", "export@v1_distill", "mix_real@v1_adapt", "train@v1_adapt",
                     "query_idf@v1_adapt", "encode@v1_adapt", "evaluate@v1_adapt", *V2_ADAPT_SIDE}  # fmt: skip


def test_make_repro_runs_every_stage_but_the_opt_in_experiments():
    """`make repro` is `dvc repro report`: report needs every stage but the experiments', which `experiments` needs."""
    import networkx as nx
    from dvc.repo import Repo

    recipe = re.search(r"^repro:.*\n\t(.+)$", (REPO / "Makefile").read_text(encoding="utf-8"), re.M).group(1)
    assert recipe == "dvc repro report"
    with Repo(str(REPO)) as dvc_repo:
        graph = dvc_repo.index.graph
        node = {stage.name: stage for stage in graph.nodes}
        upstream = {name: {s.name for s in nx.descendants(graph, node[name])} | {name} for name in node}
    assert set(node) - upstream["report"] == EXPERIMENT_STAGES | {"experiments"}
    assert EXPERIMENT_STAGES <= upstream["experiments"]


def test_every_stage_depends_on_each_kosparse_module_its_script_imports():
    """Import statements, plus kosparse.model.anchor wherever a saved encoder is loaded (modules.json names it)."""
    from dvc.repo import Repo

    anchor = {"kosparse/model/anchor.py"} | import_closure(REPO / "kosparse" / "model" / "anchor.py")

    missing = {}
    with Repo(str(REPO)) as dvc_repo:
        for stage in dvc_repo.index.stages:
            script = re.search(r"python -m (scripts\.\w+)", stage.cmd).group(1)
            in_repo = (Path(d.fs_path) for d in stage.deps if Path(d.fs_path).is_relative_to(REPO))
            deps = {p.relative_to(REPO).as_posix() for p in in_repo}
            needed = import_closure(REPO / f"{script.replace('.', '/')}.py")
            if any(d.startswith("models/") and d != "models/base" for d in deps):
                needed |= anchor
            absent = needed - deps
            if absent:
                missing[stage.name] = sorted(absent)
    assert not missing, f"stages whose deps miss a module their script imports: {missing}"


@pytest.mark.slow
def test_a_docstring_change_in_one_module_reruns_only_the_stages_that_import_it(committed_copy):
    module = committed_copy / "kosparse" / "evaluation" / "hybrid.py"
    module.write_text(module.read_text(encoding="utf-8").replace('"""Hybrid search', '"""Hybrid retrieval', 1))
    # The stages whose scripts import kosparse.evaluation.hybrid; their outputs stay byte-identical, so DVC stops there.
    evaluations = {f"evaluate@{v}" for v in ("v1", "v2", "v1_distill", "v1_adapt", "v2_adapt", "v2_expanded")}
    assert _changed_stages(committed_copy) == {"evaluate_bm25", *evaluations}
