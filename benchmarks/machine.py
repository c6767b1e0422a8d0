"""The machine a benchmark ran on, for BENCHMARKS.md: the CPU's name and its bfloat16
flags."""

import platform
from pathlib import Path


def cpu_name():
    """The first ``model name`` of /proc/cpuinfo (else what `platform` knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def bfloat16_flags():
    """The CPU's bfloat16 flags among amx_bf16, amx_tile and avx512_bf16 (sorted)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                return sorted(flags & {"amx_bf16", "amx_tile", "avx512_bf16"})
    except OSError:
        pass
    return []
