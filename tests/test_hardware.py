"""The hardware probe: pure parsing and decisions on fake readings, and an honest probe of this machine."""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys

import pytest

from inference import hardware
from inference.hardware import GPU, Hardware, parse_meminfo, parse_nvidia_smi, probe, reinstall_hint

GiB = 1024**3
H100 = GPU(name="NVIDIA H100 80GB HBM3", vendor="nvidia", total_bytes=81559 * 1024**2, free_bytes=80000 * 1024**2)


def fake_probe(gpus=(), *, offload=False, system="Linux", machine="x86_64") -> Hardware:
    return probe(query_gpus=lambda: tuple(gpus), read_ram=lambda: (64 * GiB, 48 * GiB),
                 offload_check=lambda: offload, cpu_count=lambda: 16, system=system, machine=machine)


def test_parse_nvidia_smi_two_gpus():
    text = "NVIDIA GeForce RTX 4090, 24564, 23012\nNVIDIA RTX A6000, 49140, 48000\n"
    gpus = parse_nvidia_smi(text)
    assert [g.name for g in gpus] == ["NVIDIA GeForce RTX 4090", "NVIDIA RTX A6000"]
    assert gpus[0].total_bytes == 24564 * 1024**2 and gpus[0].free_bytes == 23012 * 1024**2
    assert all(g.vendor == "nvidia" and not g.unified for g in gpus)


def test_parse_nvidia_smi_skips_garbage():
    assert parse_nvidia_smi("") == ()
    assert parse_nvidia_smi("No devices were found\n") == ()
    assert parse_nvidia_smi("Some GPU, [N/A], [N/A]\n") == ()
    # a comma inside the name is kept: the numbers are the last two fields
    assert parse_nvidia_smi("Weird, Inc. GPU, 1024, 512")[0].name == "Weird, Inc. GPU"


def test_parse_meminfo():
    text = "MemTotal:       65536000 kB\nMemFree:         1000000 kB\nMemAvailable:   50000000 kB\n"
    assert parse_meminfo(text) == (65536000 * 1024, 50000000 * 1024)
    assert parse_meminfo("MemTotal: 2048 kB\nMemFree: 1024 kB\n") == (2048 * 1024, 1024 * 1024)


def test_probe_uses_the_injected_readings():
    hw = fake_probe([H100], offload=True)
    assert hw.has_gpu and hw.gpus == (H100,)
    assert hw.free_vram_bytes == H100.free_bytes == hw.usable_vram_bytes
    assert (hw.ram_total_bytes, hw.ram_available_bytes, hw.cpu_count) == (64 * GiB, 48 * GiB, 16)
    assert hw.gpu_offload_supported is True


def test_vram_adds_up_over_gpus_but_only_counts_when_offload_works():
    hw = fake_probe([H100, H100], offload=False)
    assert hw.free_vram_bytes == 2 * H100.free_bytes
    assert hw.usable_vram_bytes == 0


def test_reinstall_hint_for_nvidia_without_cuda_build():
    assert reinstall_hint(fake_probe([H100], offload=False)) == (
        'CMAKE_ARGS="-DGGML_CUDA=on" pip install --force-reinstall --no-cache-dir llama-cpp-python==0.3.36'
    )
    assert reinstall_hint(fake_probe([H100], offload=None)).startswith('CMAKE_ARGS="-DGGML_CUDA=on"')


def test_reinstall_hint_for_apple_without_metal_build():
    m2 = GPU(name="Apple Silicon GPU (Metal)", vendor="apple", total_bytes=32 * GiB, free_bytes=24 * GiB, unified=True)
    hint = reinstall_hint(fake_probe([m2], offload=False, system="Darwin", machine="arm64"))
    assert hint == 'CMAKE_ARGS="-DGGML_METAL=on" pip install --force-reinstall --no-cache-dir llama-cpp-python==0.3.36'


def test_no_hint_when_nothing_to_fix():
    assert reinstall_hint(fake_probe([], offload=False)) is None  # no GPU: the CPU build is right
    assert reinstall_hint(fake_probe([H100], offload=True)) is None  # already a GPU build


def test_nvidia_smi_fallback(monkeypatch):
    monkeypatch.setattr(hardware, "_nvml_gpus", lambda: None)
    monkeypatch.setattr(hardware.shutil, "which", lambda name: "/usr/bin/nvidia-smi")
    seen = {}

    def fake_run(cmd, **kwargs):
        seen["cmd"], seen["timeout"] = cmd, kwargs.get("timeout")
        return subprocess.CompletedProcess(cmd, 0, stdout="NVIDIA L4, 23034, 22500\n", stderr="")

    monkeypatch.setattr(hardware.subprocess, "run", fake_run)
    gpus = hardware.default_query_gpus("Linux", "x86_64")
    assert [g.name for g in gpus] == ["NVIDIA L4"]
    assert "--query-gpu=name,memory.total,memory.free" in seen["cmd"]
    assert "--format=csv,noheader,nounits" in seen["cmd"]
    assert seen["timeout"] is not None and seen["timeout"] <= 5


def test_nvidia_smi_that_hangs_or_fails_means_no_gpu(monkeypatch):
    monkeypatch.setattr(hardware, "_nvml_gpus", lambda: None)
    monkeypatch.setattr(hardware.shutil, "which", lambda name: "/usr/bin/nvidia-smi")

    def hang(cmd, **kwargs):
        raise subprocess.TimeoutExpired(cmd, kwargs.get("timeout", 0))

    monkeypatch.setattr(hardware.subprocess, "run", hang)
    assert hardware.default_query_gpus("Linux", "x86_64") == ()
    monkeypatch.setattr(hardware.subprocess, "run",
                        lambda cmd, **kw: subprocess.CompletedProcess(cmd, 9, stdout="", stderr="NVML error"))
    assert hardware.default_query_gpus("Linux", "x86_64") == ()
    monkeypatch.setattr(hardware.shutil, "which", lambda name: None)
    assert hardware.default_query_gpus("Linux", "x86_64") == ()


def test_apple_silicon_counts_unified_memory(monkeypatch):
    monkeypatch.setattr(hardware, "_sysctl_int", lambda name: 32 * GiB if name == "hw.memsize" else None)
    (gpu,) = hardware.default_query_gpus("Darwin", "arm64")
    assert gpu.vendor == "apple" and gpu.unified
    assert gpu.total_bytes == 32 * GiB and gpu.free_bytes == int(32 * GiB * hardware.APPLE_GPU_SHARE)
    assert hardware.default_query_gpus("Darwin", "x86_64") == ()  # Intel Macs: no Metal offload here


def test_missing_llama_cpp_is_reported_as_unknown(monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # makes `import llama_cpp` fail
    assert hardware.default_offload_check() is None


def test_real_probe_never_invents_a_gpu():
    hw = probe()
    assert hw.cpu_count >= 1 and hw.ram_total_bytes > 0 and 0 < hw.ram_available_bytes <= hw.ram_total_bytes
    assert hw.gpu_offload_supported in (True, False, None)
    has_nvidia = shutil.which("nvidia-smi") is not None or _pynvml_importable()
    if not has_nvidia and platform.system() != "Darwin":
        assert hw.gpus == () and hw.free_vram_bytes == 0 and reinstall_hint(hw) is None


def _pynvml_importable() -> bool:
    try:
        import pynvml  # noqa: F401
    except Exception:
        return False
    return True


def test_hardware_is_frozen():
    import dataclasses

    hw = fake_probe()
    with pytest.raises(dataclasses.FrozenInstanceError):
        hw.cpu_count = 2  # type: ignore[misc]


def test_names_the_factory_uses():
    hw = fake_probe([H100], offload=True)
    assert hw.ram_bytes == hw.ram_available_bytes == 48 * GiB
    assert hw.free_vram_bytes == H100.free_bytes
