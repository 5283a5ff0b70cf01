"""Peak memory of this process: RSS, and GPU memory where a GPU is in use."""

from __future__ import annotations

import resource


def peak_memory() -> dict:
    """Peak RSS of this process, and GPU memory where a GPU is in use."""
    report = {"peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)}
    try:
        import torch

        if torch.cuda.is_available():
            report["gpu_allocated_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
            report["gpu_reserved_gb"] = round(torch.cuda.max_memory_reserved() / 2**30, 2)
    except ImportError:
        pass
    try:  # llama.cpp allocates outside torch: ask the driver
        import pynvml

        pynvml.nvmlInit()
        info = pynvml.nvmlDeviceGetMemoryInfo(pynvml.nvmlDeviceGetHandleByIndex(0))
        report["gpu_used_gb_nvml"] = round(info.used / 2**30, 2)
    except Exception:  # no NVML library or no GPU: nothing to report
        pass
    return report
