# Two commands do all set-up on a fresh machine (only Python and pip needed):
#   make demo   create .venv, install, generate the demo data, train HM-AN on
#               it (CPU), test the best checkpoint and print its top-1
#   make test   create .venv if missing, run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.hman-installed
# The CPU wheel of torch must be installed before anything that depends on
# torch: an unpinned torch pulls a multi-GB CUDA build.
# Elsewhere than this project's machines (which carry the CPU wheel locally),
# pick the CPU build explicitly, e.g.
#   make demo TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
TORCH  ?= torch==2.13.0
PYTEST_ARGS ?=

.PHONY: venv demo test figures ablate benchmark device-check device-wheels clean-demo

venv: $(STAMP)

$(STAMP): setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade 'pip>=23' 'setuptools>=61,<81' wheel
	$(BIN)/python -m pip install $(TORCH)
	$(BIN)/python -m pip install --no-build-isolation -e '.[tests]'
	$(BIN)/python -c "import hman_mmaction, mmaction.models; print('hman-mmaction', hman_mmaction.__version__, 'ready')"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python tools/demo.py

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# README figures (attention grid, boundary plot) from the demo checkpoint
figures: $(STAMP)
	$(BIN)/python tools/make_readme_figures.py --train

# the demo ablation grid from the frozen-backbone feature cache
ablate: $(STAMP)
	test -n "$$(ls work_dirs/hman_demo/best_*.pth 2>/dev/null)" || $(BIN)/python tools/demo.py
	$(BIN)/python tools/ablate.py --cached-grid --seeds 3 --threads 1 --out work_dirs/ablate/demo_grid.md

# speed of the head and of the whole recognizer (prints a table)
benchmark: $(STAMP)
	$(BIN)/python tools/benchmark.py --json work_dirs/benchmark.json

# the GPU check (tools/device_check.py, at most 8 minutes on one H100):
# CUDA tests, fast-vs-reference parity, the cuda_graphs option's head rows,
# parity and replay stress, the UCF101 config with and without it against
# TSN, the compile option; report with the acceptance block (issue 33's
# targets) in work_dirs/device_check/. Runs in the Python that has the CUDA build of
# torch: .venv if there is one, else $(PYTHON) (no CPU torch is installed
# over it). DEVICE_CHECK_ARGS: e.g. --install-wheels DIR, --parts a b,
# --dry-run (on a CPU, what CI runs).
CHECK_PYTHON ?= $(if $(wildcard $(BIN)/python),$(BIN)/python,$(PYTHON))
DEVICE_CHECK_ARGS ?=
device-check:
	$(CHECK_PYTHON) tools/device_check.py $(DEVICE_CHECK_ARGS)

# for a GPU machine that holds torch but not the OpenMMLab stack and reaches
# no index: the wheels it lacks, at the versions installed here, into .whl/
# (there: make device-check DEVICE_CHECK_ARGS="--install-wheels .whl")
device-wheels: $(STAMP)
	$(BIN)/python tools/device_check.py --download-wheels .whl

clean-demo:
	rm -rf data/synthetic_actions work_dirs/hman_demo
