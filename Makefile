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
	$(PIP) -e '.[physics,ray,bench,test,graph]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-all: $(VENV)/.installed-all

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
