# Two commands on a fresh machine: `make run` and `make test`. Everything lives in .venv.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install install-cuda install-metal run test bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# Rebuild llama-cpp-python with GPU offload (the default wheel is CPU-only; pip's cache must be bypassed).
install-cuda: install
	CMAKE_ARGS="-DGGML_CUDA=on" $(PY) -m pip install --force-reinstall --no-cache-dir --no-deps llama-cpp-python==0.3.36

install-metal: install
	CMAKE_ARGS="-DGGML_METAL=on" $(PY) -m pip install --force-reinstall --no-cache-dir --no-deps llama-cpp-python==0.3.36

run: install
	$(VENV)/bin/folio serve

test: install
	$(PY) -m pytest

bench: install
	$(PY) -m pip install --quiet -e ".[test,bench]"
	$(PY) -m bench.run_all

clean:
	rm -rf $(VENV) .pytest_cache
