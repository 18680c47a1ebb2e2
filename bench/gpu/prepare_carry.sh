#!/usr/bin/env bash
# Fetch, here, the wheels the lent H200 lacks for the GPU suite, into .whl/ (ignored by git,
# named in the device call's `carry`). The device has no internet; its python3 is CPython 3.12
# on x86-64 with torch, transformers, peft, accelerate, pyarrow, nvidia-ml-py, triton, pandas,
# numpy, huggingface-hub, rich, pyyaml, jinja2, psutil, xxhash, fsspec (the tool library's
# KINDS.md lists them). What the suite imports beyond that is below, at the versions this
# project's venv runs, each with --no-deps (every dependency is named here, or is there).
# textual and gguf are not needed: the suite never imports the TUI or reads a .gguf.
#
#   bash bench/gpu/prepare_carry.sh          # then: du -sh .whl (must stay well under 64 MiB)
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/work/main/.venv/bin/python}
DEST=.whl
WHEELS=(
    datasets==5.2.0          # ftui's data loading (and TRL's)
    dill==0.4.1              # datasets
    multiprocess==0.70.19    # datasets
    pydantic==2.14.4         # ftui's RunSpec
    pydantic-core==2.50.5    # pydantic (compiled: cp312 manylinux)
    annotated-types==0.8.0   # pydantic
    typing-inspection==0.4.5 # pydantic
    platformdirs==4.14.9     # ftui.core.locations
    trl==1.16.0              # the TRL SFTTrainer recipes
    liger-kernel==0.8.5      # ftui + Liger (Triton kernels; triton is on the device)
)
rm -rf "$DEST"
mkdir -p "$DEST"
for spec in "${WHEELS[@]}"; do
    "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        --platform manylinux1_x86_64 --platform any -d "$DEST" "$spec"
done
ls -1 "$DEST"
du -sh "$DEST"
