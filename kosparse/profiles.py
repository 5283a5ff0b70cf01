"""Profiles: named overrides of params.yaml (`profiles/<name>.yaml`), one command to switch.

    python -m kosparse.profiles gb10      # rewrite params.yaml with the GB10 values

A profile may only change keys that params.yaml already has, so a typo in a
profile is an error rather than a silently ignored setting. The exceptions are
the mappings whose keys are names the user declares (data sources and their
licences): a profile may add entries there.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import yaml

from kosparse.errors import KosparseError
from kosparse.io import atomic_path, load_params

OPEN_MAPPINGS = ("collect.sources", "export.data_licences")


def apply_profile(params: dict, overrides: dict, where: str = "") -> dict:
    """Deep-merge `overrides` into a copy of `params`; unknown keys are rejected outside OPEN_MAPPINGS."""
    merged = dict(params)
    for key, value in overrides.items():
        path = f"{where}.{key}" if where else key
        if key not in params and where in OPEN_MAPPINGS:
            merged[key] = value
            continue
        if key not in params:
            raise KosparseError(f"profile sets {path}, which params.yaml does not have")
        if isinstance(value, dict) and params[key] is not None and not isinstance(params[key], dict):
            raise KosparseError(f"profile sets keys under {path}, which params.yaml has as one value")
        if isinstance(value, dict) and isinstance(params[key], dict):
            merged[key] = apply_profile(params[key], value, path)
        else:
            merged[key] = value
    return merged


def with_comments(params_text: str, merged: dict) -> str:
    """`merged` written in the layout of `params_text`, its comments kept (ruamel's round trip).

    params.yaml's comments are its documentation; a profile switch must not erase them.
    """
    from ruamel.yaml import YAML

    rt = YAML()
    rt.width = 4096  # keep long lines as they are
    rt.representer.add_representer(float, _float_with_dot)
    document = rt.load(params_text)
    _update(document, merged)
    out = io.StringIO()
    rt.dump(document, out)
    return out.getvalue()


def _float_with_dot(representer, value: float):
    """2.0e-05, not 2e-05: PyYAML (which reads params) takes an exponent float without a dot for a string."""
    text = repr(value)
    if "e" in text and "." not in text.split("e")[0]:
        text = text.replace("e", ".0e", 1)
    return representer.represent_scalar("tag:yaml.org,2002:float", text)


def _update(node, values: dict) -> None:
    for key, value in values.items():
        if key in node and isinstance(value, dict) and isinstance(node[key], dict):
            _update(node[key], value)
        elif node.get(key) != value:
            node[key] = value


def load_profile(name: str, profiles_dir: str | Path = "profiles") -> dict:
    path = Path(profiles_dir) / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in Path(profiles_dir).glob("*.yaml"))
        raise KosparseError(f"{path}: no such profile (known: {', '.join(known) or 'none'})")
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def main() -> None:
    parser = argparse.ArgumentParser(description="Apply a profile's overrides to params.yaml")
    parser.add_argument("profile")
    parser.add_argument("--params", default="params.yaml")
    args = parser.parse_args()
    try:
        merged = apply_profile(load_params(args.params), load_profile(args.profile))
    except KosparseError as e:
        sys.exit(f"error: {e}")
    with atomic_path(args.params) as tmp:
        tmp.write_text(with_comments(Path(args.params).read_text(encoding="utf-8"), merged), encoding="utf-8")
    print(f"params.yaml now uses profile {args.profile!r}; `git diff params.yaml` shows what changed")


if __name__ == "__main__":
    main()
