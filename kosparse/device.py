"""One place decides the torch device and what it supports; every stage asks here.

The default profile runs on the CPU; the GB10 profile on CUDA. Code that
moves tensors to numpy copies them to the host explicitly (`.cpu()`), so a
GPU never hands a CUDA tensor to numpy.
"""

from __future__ import annotations

import os

import torch


def torch_device() -> str:
    """ "cuda" when a GPU is visible, else "cpu"."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def bf16_supported() -> bool:
    """bf16 only where the device computes it natively (a CUDA GPU that says so)."""
    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()


def is_main_process() -> bool:
    """True on the one process that writes outputs: rank 0 under torchrun / accelerate, or a plain run."""
    return int(os.environ.get("RANK", "0")) == 0
