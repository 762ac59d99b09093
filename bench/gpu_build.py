"""Build llama-cpp-python and llama.cpp's ``llama-bench`` from one cached source, offline, for one GPU.

The source is llama-cpp-python's sdist, which vendors llama.cpp in ``vendor/llama.cpp``. The native
libraries are built once, by CMake and Ninja straight from ``vendor/llama.cpp``, with
``GGML_CUDA=on`` for the card's own architecture only (``nvidia-smi --query-gpu=compute_cap``), and
``llama-bench`` is one more target of that same build, so the CUDA kernels are compiled once. The
Python package is then installed from the sdist with ``pip --no-index --no-build-isolation`` and
``LLAMA_BUILD=OFF`` (only its Python files; nothing is fetched), and the libraries just built are
copied into its ``llama_cpp/lib``, where the wheel would have put them.

The full sdist (76.6 MB, 38 MB of it the vendored llama.cpp's git history) is larger than what
travels to a lent GPU machine (64 MiB in all), so :func:`slim_sdist` repacks it (5.2 MB) without what
a CUDA build never reads: git metadata (the llama.cpp commit is kept in ``LLAMA_CPP_COMMIT``), docs,
tests, examples, the other GPU backends, the web UI, and the sample vocabularies except Llama's
SentencePiece one, which the Mixtral benchmark GGUF uses as its tokenizer.

>>> cmake_args(cuda_arch="90")[:3]
['-DGGML_CUDA=ON', '-DCMAKE_CUDA_ARCHITECTURES=90-real', '-DGGML_CUDA_NCCL=OFF']
>>> cuda_arch_from_compute_cap("9.0\\n")
'90'
>>> keep_in_slim("llama_cpp_python-0.3.36/vendor/llama.cpp/docs/build.md")
False
>>> keep_in_slim("llama_cpp_python-0.3.36/vendor/llama.cpp/models/ggml-vocab-llama-spm.gguf")
True
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

LLAMA_CPP_PYTHON = "0.3.36"
SLIM_NAME = f"llama_cpp_python-{LLAMA_CPP_PYTHON}-slim.tar.gz"
#: The vocabulary file inside the sdist that gives the benchmark GGUF a real 32,000-token tokenizer.
LLAMA_SPM_VOCAB = "vendor/llama.cpp/models/ggml-vocab-llama-spm.gguf"

# Paths under vendor/llama.cpp that a CPU or CUDA build of the libraries and tools never reads.
_DROP_UNDER_LLAMA_CPP = (
    "docs/", "media/", "tests/", "benches/", "examples/", "gguf-py/", "conversion/", "pocs/", "scripts/",
    ".devops/", ".github/", "ci/", "skills/", "app/", "requirements/", "grammars/",
    "tools/ui/", "tools/server/",
    *(f"ggml/src/ggml-{b}/" for b in ("vulkan", "sycl", "metal", "opencl", "cann", "hexagon", "webgpu",
                                      "openvino", "et", "virtgpu", "zdnn", "musa", "hip", "blas", "rpc", "zendnn")),
)
_DROP_TOP = ("docs/", "examples/", "tests/", "docker/", ".git/")
#: Where the slim copy records the vendored llama.cpp commit (the sdist's git metadata, 38 MB, is dropped).
COMMIT_FILE = "LLAMA_CPP_COMMIT"


def keep_in_slim(member: str) -> bool:
    """Whether a path of the sdist (``llama_cpp_python-X/...``) goes into the slim copy."""
    rest = member.split("/", 1)[1] if "/" in member else ""
    if any(rest.startswith(p) for p in _DROP_TOP):
        return False
    prefix = "vendor/llama.cpp/"
    if not rest.startswith(prefix):
        return True
    inner = rest[len(prefix):]
    if inner.startswith("models/"):
        return rest == LLAMA_SPM_VOCAB or inner == "models/"
    if inner == ".git":
        return False
    return not any(inner.startswith(p) for p in _DROP_UNDER_LLAMA_CPP)


def slim_sdist(sdist: Path, dest: Path) -> Path:
    """Repack ``sdist`` at ``dest`` with only the members :func:`keep_in_slim` keeps; returns ``dest``.

    The vendored llama.cpp commit, read from the dropped git metadata, is kept in ``COMMIT_FILE``.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    commit, root = None, None
    with tarfile.open(sdist, "r:gz") as src, tarfile.open(tmp, "w:gz", compresslevel=9) as out:
        for member in src:
            root = root or member.name.split("/", 1)[0]
            if member.name.endswith(".git/modules/vendor/llama.cpp/HEAD"):
                commit = src.extractfile(member).read().decode("ascii").strip()
            if keep_in_slim(member.name):
                out.addfile(member, src.extractfile(member) if member.isfile() else None)
        data = (commit or "unknown").encode("ascii") + b"\n"
        info = tarfile.TarInfo(f"{root}/{COMMIT_FILE}")
        info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
        out.addfile(info, io.BytesIO(data))
    tmp.replace(dest)
    return dest


def prepare(folder: Path, *, wheels: Sequence[str] = (), sdist: Path | None = None) -> dict:
    """Here, with network: the slim sdist and the ``wheels`` (for the GPU machine's Python 3.12) into ``folder``.

    The full sdist is fetched into a temporary folder (unless given) and only its slim copy is kept.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        if sdist is None:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
                            f"llama-cpp-python=={LLAMA_CPP_PYTHON}", "-d", tmp], check=True)
            sdist = next(Path(tmp).glob("llama_cpp_python-*.tar.gz"))
        slim = slim_sdist(sdist, folder / SLIM_NAME)
        record = {"sdist": sdist.name, "sdist_bytes": sdist.stat().st_size, "slim": str(slim),
                  "slim_bytes": slim.stat().st_size}
    if wheels:
        platforms = [a for p in ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")
                     for a in ("--platform", p)]
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--python-version",
                        "3.12", "--implementation", "cp", *platforms, "-d", str(folder), *wheels], check=True)
    record["folder_bytes"] = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
    record["files"] = sorted(f.name for f in folder.iterdir() if f.is_file())
    return record


def cuda_arch_from_compute_cap(text: str) -> str:
    """``nvidia-smi --query-gpu=compute_cap`` output ("9.0") as a CMake CUDA architecture ("90")."""
    first = text.strip().splitlines()[0].strip()
    if not re.fullmatch(r"\d+\.\d+", first):
        raise ValueError(f"nvidia-smi gave an unexpected compute capability: {first!r}")
    return first.replace(".", "")


def nvidia_smi(*fields: str) -> list[str] | None:
    """One GPU's ``fields`` from ``nvidia-smi --query-gpu`` (the first GPU), or None without nvidia-smi."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    out = subprocess.run([exe, f"--query-gpu={','.join(fields)}", "--format=csv,noheader"],
                         capture_output=True, text=True, timeout=30, check=False)
    if out.returncode != 0 or not out.stdout.strip():
        return None
    return [v.strip() for v in out.stdout.strip().splitlines()[0].split(",")]


def gpu_machine() -> dict:
    """The GPU as nvidia-smi and nvcc describe it; ``{"gpu": None}`` on a machine without one."""
    values = nvidia_smi("name", "memory.total", "driver_version", "compute_cap")
    if values is None:
        return {"gpu": None}
    info: dict = dict(zip(("name", "memory_total", "driver", "compute_cap"), values))
    header = subprocess.run(["nvidia-smi"], capture_output=True, text=True, timeout=30, check=False).stdout
    match = re.search(r"CUDA Version:\s*([\d.]+)", header)
    info["cuda_driver_api"] = match.group(1) if match else None
    nvcc = shutil.which("nvcc") or ("/usr/local/cuda/bin/nvcc" if Path("/usr/local/cuda/bin/nvcc").exists() else None)
    if nvcc:
        text = subprocess.run([nvcc, "--version"], capture_output=True, text=True, timeout=30, check=False).stdout
        match = re.search(r"release ([\d.]+)", text)
        info["nvcc"] = match.group(1) if match else text.strip().splitlines()[-1:]
    return {"gpu": info}


def cmake_args(*, cuda_arch: str | None) -> list[str]:
    """CMake options for the shared libraries and ``llama-bench``; CPU-only when ``cuda_arch`` is None.

    ``-real``: machine code for that architecture alone, no PTX for others (the shortest CUDA build).
    """
    gpu = (["-DGGML_CUDA=ON", f"-DCMAKE_CUDA_ARCHITECTURES={cuda_arch}-real", "-DGGML_CUDA_NCCL=OFF"]
           if cuda_arch else ["-DGGML_CUDA=OFF"])
    return gpu + ["-DCMAKE_BUILD_TYPE=Release", "-DBUILD_SHARED_LIBS=ON", "-DGGML_NATIVE=ON",
                  "-DLLAMA_CURL=OFF", "-DLLAMA_OPENSSL=OFF", "-DLLAMA_BUILD_COMMON=ON", "-DLLAMA_BUILD_TOOLS=ON",
                  "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_BUILD_SERVER=OFF",
                  "-DLLAMA_BUILD_APP=OFF"]


def _run(cmd: Sequence[str], *, log: Path, env: dict | None = None, deadline: float | None = None) -> float:
    """Run ``cmd`` with its output appended to ``log``; seconds taken. Raises with the log's tail on failure.

    ``deadline`` is a ``time.monotonic()`` value: the command is stopped there (a rerun resumes the build).
    """
    start = time.perf_counter()
    timeout = None if deadline is None else max(deadline - time.monotonic(), 1)
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n$ {' '.join(map(str, cmd))}\n")
        out.flush()
        try:
            rc = subprocess.run(list(map(str, cmd)), stdout=out, stderr=subprocess.STDOUT, env=env, timeout=timeout,
                                check=False).returncode
        except subprocess.TimeoutExpired:
            rc = f"a stop at the deadline after {time.perf_counter() - start:.0f} s (run again to resume)"
    if rc != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"{Path(str(cmd[0])).name} {cmd[1] if len(cmd) > 1 else ''} ended with {rc}:\n{tail}")
    return time.perf_counter() - start


def cuda_env() -> dict:
    """This environment, with CUDA's compiler on the path where it sits in the usual place but off the path."""
    env = dict(os.environ)
    if shutil.which("nvcc") is None and Path("/usr/local/cuda/bin/nvcc").exists():
        env["PATH"] = "/usr/local/cuda/bin" + os.pathsep + env.get("PATH", "")
        env.setdefault("CUDACXX", "/usr/local/cuda/bin/nvcc")
    return env


def unpack(sdist: Path, dest: Path) -> Path:
    """The sdist unpacked under ``dest`` (once); returns the source root."""
    stamp = dest / ".unpacked"
    if not stamp.exists():
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        with tarfile.open(sdist, "r:gz") as tar:
            tar.extractall(dest, filter="data")
        stamp.write_text(sdist.name, encoding="utf-8")
    return next(p for p in dest.iterdir() if p.is_dir() and p.name.startswith("llama_cpp_python"))


def build(sdist: Path, work: Path, *, cuda_arch: str | None, jobs: int | None = None,
          timeout: float | None = None) -> dict:
    """Build the libraries and ``llama-bench`` under ``work`` and install the Python package into ``work/site``.

    Skipped when ``work/build.json`` records the same sdist and architecture; returns that record
    (paths, the CMake options, and the seconds each step took). A build stopped by ``timeout`` (seconds)
    leaves its objects in ``work/build``, so the next call compiles only what is left.
    """
    stamp = work / "build.json"
    if stamp.exists():
        done = json.loads(stamp.read_text(encoding="utf-8"))
        if done.get("sdist") == sdist.name and done.get("cuda_arch") == cuda_arch:
            return done | {"status": "cached"}
    deadline = None if timeout is None else time.monotonic() + timeout
    work.mkdir(parents=True, exist_ok=True)
    log = work / "build.log"
    jobs = jobs or os.cpu_count() or 1
    started = time.perf_counter()
    src = unpack(sdist, work / "src")
    unpack_s = time.perf_counter() - started
    build_dir = work / "build"
    env = cuda_env()
    generator = ["-G", "Ninja"] if shutil.which("ninja") and not (build_dir / "Makefile").exists() else []
    configure_s = _run(["cmake", "-S", src / "vendor" / "llama.cpp", "-B", build_dir, *generator,
                        *cmake_args(cuda_arch=cuda_arch)], log=log, env=env, deadline=deadline)
    compile_s = _run(["cmake", "--build", build_dir, "--target", "llama", "llama-bench", "-j", str(jobs)],
                     log=log, env=env, deadline=deadline)
    bin_dir = build_dir / "bin"
    site = work / "site"
    package, install_s = install_package(src, site, log=log, deadline=deadline)
    lib = site / "llama_cpp" / "lib"
    lib.mkdir(parents=True, exist_ok=True)
    for so in sorted(bin_dir.glob("lib*.so*")):
        target = lib / so.name
        if target.exists() or target.is_symlink():
            target.unlink()
        shutil.copy2(so, target, follow_symlinks=False)
    commit = src / COMMIT_FILE
    record = {"sdist": sdist.name, "cuda_arch": cuda_arch, "jobs": jobs, "cmake_args": cmake_args(cuda_arch=cuda_arch),
              "llama_cpp_commit": commit.read_text(encoding="ascii").strip() if commit.exists() else None,
              "src": str(src), "llama_bench": str(bin_dir / "llama-bench"), "site": str(site),
              "python_package": package, "libraries": sorted(p.name for p in lib.iterdir()),
              "seconds": {"unpack": round(unpack_s, 1), "configure": round(configure_s, 1),
                          "compile": round(compile_s, 1), "python_package": round(install_s, 1),
                          "total": round(time.perf_counter() - started, 1)},
              "log": str(log)}
    stamp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record | {"status": "built"}


def install_package(src: Path, site: Path, *, log: Path, deadline: float | None = None) -> tuple[str, float]:
    """llama-cpp-python's Python files into ``site``, by pip offline with no native build; a plain copy if pip fails.

    Returns how it was installed and the seconds it took.
    """
    start = time.perf_counter()
    shutil.rmtree(site, ignore_errors=True)
    env = os.environ | {"CMAKE_ARGS": "-DLLAMA_BUILD=OFF -DLLAVA_BUILD=OFF"}
    try:
        _run([sys.executable, "-m", "pip", "install", "--no-index", "--no-build-isolation", "--no-deps", "--no-compile",
              "--target", site, src], log=log, env=env, deadline=deadline)
        how = "pip install --no-index --no-build-isolation (LLAMA_BUILD=OFF)"
    except RuntimeError as error:
        shutil.rmtree(site, ignore_errors=True)
        shutil.copytree(src / "llama_cpp", site / "llama_cpp")
        how = f"copied from the sdist, since pip failed: {str(error).splitlines()[0]}"
    return how, time.perf_counter() - start
