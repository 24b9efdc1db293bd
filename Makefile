# Two commands do all set-up on a fresh machine:
#   make demo   -- virtualenv + install + the main job on the bundled images
#   make test   -- virtualenv + install with test extras + the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DIR ?= runs/demo
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: demo test install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-installs when the package metadata changes.
$(VENV)/.installed: setup.cfg setup.py | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/python tools/demo.py --workdir=$(DEMO_DIR)

# One worker per core (at most 4: each holds a TensorFlow); a file's tests share a worker,
# so module fixtures (the CLI error table, the trained models) are made once.  Files go to
# workers heaviest first (tests/conftest.py orders them; xdist would order them by test count).
test: install
	$(BIN)/python -m pytest -q -n auto --maxprocesses=4 --dist loadfile --no-loadscope-reorder

clean:
	rm -rf $(VENV) runs .pytest_cache
