"""What this machine offers a model: GPUs and their free memory, RAM, CPU cores, and whether the
installed llama.cpp build can offload to a GPU at all.

:func:`probe` does the I/O; every source is an injectable callable, and the decisions
(:func:`parse_nvidia_smi`, :func:`parse_meminfo`, :func:`reinstall_hint`) are pure, so tests feed in
fake readings and nothing ever pretends a GPU exists.

>>> hw = probe(query_gpus=lambda: (GPU(name="NVIDIA H100 80GB HBM3", vendor="nvidia",
...                                    total_bytes=85520809984, free_bytes=84920434688),),
...            read_ram=lambda: (128 * 2**30, 120 * 2**30), offload_check=lambda: False, cpu_count=lambda: 16)
>>> hw.has_gpu, round(hw.free_vram_bytes / 2**30, 1)
(True, 79.1)
>>> reinstall_hint(hw)
'CMAKE_ARGS="-DGGML_CUDA=on" pip install --force-reinstall --no-cache-dir llama-cpp-python==0.3.36'

GPU sources, in order: ``pynvml`` (package nvidia-ml-py) if importable; else ``nvidia-smi`` if on
PATH (2 s timeout); on macOS arm64, Apple's unified memory counts as the GPU, with Metal's usual
working-set limit (:data:`APPLE_GPU_SHARE` of RAM) as its free memory. On Apple Silicon the
"VRAM" and the RAM are the same memory: do not add them up.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "GPU",
    "Hardware",
    "LLAMA_CPP_VERSION",
    "parse_meminfo",
    "parse_nvidia_smi",
    "probe",
    "reinstall_hint",
]

#: The llama-cpp-python release the project pins (used in the reinstall command).
LLAMA_CPP_VERSION = "0.3.36"
#: Fraction of unified memory Metal lets one process keep resident (recommendedMaxWorkingSetSize).
APPLE_GPU_SHARE = 0.75
NVIDIA_SMI_TIMEOUT_S = 2.0
_MiB = 1024**2


@dataclass(frozen=True)
class GPU:
    name: str
    vendor: str  # "nvidia" or "apple"
    total_bytes: int
    free_bytes: int
    unified: bool = False  # memory shared with the CPU (Apple Silicon)


@dataclass(frozen=True)
class Hardware:
    gpus: tuple[GPU, ...]
    ram_total_bytes: int
    ram_available_bytes: int
    cpu_count: int
    gpu_offload_supported: bool | None  # None: llama_cpp is not installed
    system: str  # platform.system(): "Linux", "Darwin", "Windows"
    machine: str  # platform.machine(): "x86_64", "arm64", ...

    @property
    def has_gpu(self) -> bool:
        return bool(self.gpus)

    @property
    def free_vram_bytes(self) -> int:
        """Free GPU memory over all GPUs (llama.cpp splits layers across them), 0 without a GPU."""
        return sum(g.free_bytes for g in self.gpus)

    @property
    def ram_bytes(self) -> int:
        """RAM available to a model now (what :func:`inference.planning.plan` takes as ``ram_bytes``)."""
        return self.ram_available_bytes

    @property
    def usable_vram_bytes(self) -> int:
        """GPU memory a model may actually use: 0 when the llama.cpp build cannot offload."""
        return self.free_vram_bytes if self.gpu_offload_supported else 0


def parse_nvidia_smi(text: str) -> tuple[GPU, ...]:
    """GPUs from ``nvidia-smi --query-gpu=name,memory.total,memory.free --format=csv,noheader,nounits``.

    >>> (gpu,) = parse_nvidia_smi("NVIDIA GeForce RTX 4090, 24564, 23012\\n")
    >>> gpu.name, gpu.total_bytes, gpu.free_bytes                # MiB -> bytes
    ('NVIDIA GeForce RTX 4090', 25757220864, 24129830912)
    """
    gpus = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.rsplit(",", 2)]
        if len(parts) != 3:
            continue
        name, total, free = parts
        try:
            gpus.append(GPU(name=name, vendor="nvidia", total_bytes=int(float(total) * _MiB),
                            free_bytes=int(float(free) * _MiB)))
        except ValueError:  # "[N/A]" and the like
            continue
    return tuple(gpus)


def parse_meminfo(text: str) -> tuple[int, int]:
    """(total, available) bytes from the text of ``/proc/meminfo``.

    >>> parse_meminfo("MemTotal:       16318440 kB\\nMemFree:  1000 kB\\nMemAvailable:   12000000 kB\\n")
    (16710082560, 12288000000)
    """
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        fields = rest.split()
        if fields and fields[0].isdigit():
            values[key.strip()] = int(fields[0]) * 1024
    total = values.get("MemTotal", 0)
    available = values.get("MemAvailable", values.get("MemFree", 0))
    return total, available


def reinstall_hint(hw: Hardware) -> str | None:
    """The command that rebuilds llama-cpp-python for this machine's GPU, or None when nothing to do.

    Given only when a GPU is present but the installed build cannot offload to it.
    """
    if not hw.gpus or hw.gpu_offload_supported:
        return None
    vendors = {g.vendor for g in hw.gpus}
    if "nvidia" in vendors:
        flag = "-DGGML_CUDA=on"
    elif "apple" in vendors:
        flag = "-DGGML_METAL=on"
    else:
        return None
    return f'CMAKE_ARGS="{flag}" pip install --force-reinstall --no-cache-dir llama-cpp-python=={LLAMA_CPP_VERSION}'


# --- the I/O side -------------------------------------------------------------------------------


def _nvml_gpus() -> tuple[GPU, ...] | None:
    try:
        import pynvml  # type: ignore[import-not-found]
    except Exception:
        return None
    try:
        pynvml.nvmlInit()
    except Exception:
        return None
    try:
        gpus = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            h = pynvml.nvmlDeviceGetHandleByIndex(i)
            name = pynvml.nvmlDeviceGetName(h)
            if isinstance(name, bytes):
                name = name.decode("utf-8", "replace")
            mem = pynvml.nvmlDeviceGetMemoryInfo(h)
            gpus.append(GPU(name=str(name), vendor="nvidia", total_bytes=int(mem.total), free_bytes=int(mem.free)))
        return tuple(gpus)
    except Exception:
        return None
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:
            pass


def _nvidia_smi_gpus() -> tuple[GPU, ...]:
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return ()
    try:
        out = subprocess.run(
            [exe, "--query-gpu=name,memory.total,memory.free", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=NVIDIA_SMI_TIMEOUT_S, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ()
    return parse_nvidia_smi(out.stdout) if out.returncode == 0 else ()


def _sysctl_int(name: str) -> int | None:
    try:
        out = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=2, check=False)
        return int(out.stdout.strip())
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def _apple_gpus() -> tuple[GPU, ...]:
    total = _sysctl_int("hw.memsize")
    if not total:
        return ()
    return (GPU(name="Apple Silicon GPU (Metal)", vendor="apple", total_bytes=total,
                free_bytes=int(total * APPLE_GPU_SHARE), unified=True),)


def default_query_gpus(system: str | None = None, machine: str | None = None) -> tuple[GPU, ...]:
    """Real GPUs of this machine (empty when there are none)."""
    system = system or platform.system()
    machine = machine or platform.machine()
    if system == "Darwin":
        return _apple_gpus() if machine in ("arm64", "aarch64") else ()
    found = _nvml_gpus()
    return found if found else _nvidia_smi_gpus()


def default_read_ram() -> tuple[int, int]:
    """(total, available) RAM in bytes."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            total, available = parse_meminfo(f.read())
        if total:
            return total, available
    except OSError:
        pass
    try:
        page = os.sysconf("SC_PAGE_SIZE")
        total = page * os.sysconf("SC_PHYS_PAGES")
        try:
            available = page * os.sysconf("SC_AVPHYS_PAGES")
        except (ValueError, OSError):
            available = total
        return total, available
    except (ValueError, OSError, AttributeError):
        pass
    total = _sysctl_int("hw.memsize") or 0  # macOS
    return total, total


def default_offload_check() -> bool | None:
    """Whether the installed llama.cpp build can offload to a GPU; None when llama_cpp is absent."""
    try:
        import llama_cpp
    except Exception:
        return None
    try:
        return bool(llama_cpp.llama_supports_gpu_offload())
    except Exception:
        return False


def probe(
    *,
    query_gpus: Callable[[], tuple[GPU, ...]] | None = None,
    read_ram: Callable[[], tuple[int, int]] = default_read_ram,
    offload_check: Callable[[], bool | None] = default_offload_check,
    cpu_count: Callable[[], int | None] = os.cpu_count,
    system: str | None = None,
    machine: str | None = None,
) -> Hardware:
    """Read this machine (or the injected fakes) into a :class:`Hardware`."""
    system = system or platform.system()
    machine = machine or platform.machine()
    gpus = query_gpus() if query_gpus is not None else default_query_gpus(system, machine)
    total, available = read_ram()
    return Hardware(
        gpus=tuple(gpus),
        ram_total_bytes=total,
        ram_available_bytes=available,
        cpu_count=cpu_count() or 1,
        gpu_offload_supported=offload_check(),
        system=system,
        machine=machine,
    )
