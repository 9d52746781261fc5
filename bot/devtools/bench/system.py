"""`faqbot bench`: the machine the numbers come from, latency percentiles, memory, ports."""

from __future__ import annotations

import os
import platform
import socket
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def percentiles(samples_ms: Sequence[float]) -> dict[str, float]:
    """Return n, mean, median, p95 and p99 (nearest-rank) of latencies in milliseconds."""
    if not samples_ms:
        return {"n": 0, "mean": 0.0, "median": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}
    ordered = sorted(samples_ms)

    def rank(p: float) -> float:
        # Nearest-rank: the smallest sample with at least p% of samples at or below it.
        idx = max(0, min(len(ordered) - 1, int(np.ceil(p / 100 * len(ordered))) - 1))
        return round(ordered[idx], 3)

    return {
        "n": len(ordered),
        "mean": round(statistics.fmean(ordered), 3),
        "median": round(statistics.median(ordered), 3),
        "p95": rank(95),
        "p99": rank(99),
        "max": round(ordered[-1], 3),
    }


def machine() -> dict[str, Any]:
    """Describe the machine the numbers come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        # Other work on the machine skews every timing: record how busy it was.
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = []
    return {
        "cpu": cpu,
        "cores": usable,
        "load_average": load,
        "speed_probe_ms": speed_probe_ms(),
        "memory_gib": mem_gib,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def speed_probe_ms() -> float:
    """Time a fixed pure-Python loop (best of 3): how fast this machine is right now.

    A shared virtual machine's speed drifts (the same code measured 1.5-2x slower an hour
    apart here), so numbers from two runs compare only alongside this probe.
    """
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def rss_mib(pid: int) -> dict[str, float]:
    """Return the resident (VmRSS) and peak resident (VmHWM) memory of a process, in MiB.

    With several workers, the largest process (the budget is per server process) counts.
    """
    out = {"rss_mib": 0.0, "peak_rss_mib": 0.0}
    for proc in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{proc}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out["rss_mib"] = max(out["rss_mib"], round(int(line.split()[1]) / 1024, 1))
                elif line.startswith("VmHWM:"):
                    value = round(int(line.split()[1]) / 1024, 1)
                    out["peak_rss_mib"] = max(out["peak_rss_mib"], value)
        except OSError:
            pass
    return out


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
