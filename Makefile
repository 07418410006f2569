# Two commands set everything up on a fresh machine:
#   make run    create .venv, install with the document extras (and Tesseract for scanned PDFs, jemalloc
#               for builds), start the chat UI
#   make test   create .venv, install with every extra (and Chromium, Tesseract and jemalloc), run pytest
# Both are idempotent: a second run only checks stamps and starts at once.

PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export TOKENIZERS_PARALLELISM := false

EXTRAS := office,ocr,watch,pdf-tables

.PHONY: run test test-fast install install-test browser ocr jemalloc sample eval-seed eval-pyfaq bench clean help

help:
	@echo "make run    - set up and start the chat app (http://127.0.0.1:7860; PORT= HOST= INDEX= DOCS= to change)"
	@echo "make test   - set up and run the whole test suite"
	@echo "make sample - rebuild the bundled sample index"
	@echo "make test-fast - unit tests only: no real model, browser or Ray (under a minute)"
	@echo "make eval-seed / make eval-pyfaq / make bench - measurements (see README)"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -qq --upgrade pip

# Reinstall only when the dependency list changes.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install -qq -e ".[$(EXTRAS)]"
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PIP) install -qq -e ".[test,ray,$(EXTRAS)]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# The browser tests drive Debian's Chromium (never a downloaded browser).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get install -y -q chromium || ($$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium); \
	fi

# Scanned PDF pages are read by Debian's Tesseract (without it they are reported, not indexed).
ocr:
	@if ! command -v tesseract >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get install -y -q tesseract-ocr || ($$SUDO apt-get update -q && $$SUDO apt-get install -y -q tesseract-ocr); \
	fi

# Builds run under jemalloc when it is installed: with glibc's malloc their memory grows with the corpus (qa/allocator.py).
jemalloc:
	@if [ "$$(uname)" = Linux ] && [ -z "$$(ls /usr/lib/*/libjemalloc.so.2 /usr/lib*/libjemalloc.so.2 2>/dev/null)" ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get install -y -q libjemalloc2 || ($$SUDO apt-get update -q && $$SUDO apt-get install -y -q libjemalloc2); \
	fi

# make run PORT=7861 HOST=0.0.0.0 INDEX=my-index DOCS="~/docs ~/notes" (each optional)
RUN_ARGS = $(if $(PORT),--port $(PORT)) $(if $(HOST),--host $(HOST)) $(if $(INDEX),--index $(INDEX)) $(if $(DOCS),--docs $(DOCS))

run: install
	@$(MAKE) --no-print-directory ocr || echo "warning: tesseract-ocr could not be installed; scanned PDF pages will be reported, not read"
	@$(MAKE) --no-print-directory jemalloc || echo "warning: libjemalloc2 could not be installed; builds use more memory"
	$(PY) app.py $(RUN_ARGS)

test: install-test browser ocr jemalloc
	$(PY) -m pytest -q

# The bundled sample index, rebuilt from data/sample (e.g. after its documents were removed).
sample: install
	$(PY) -m qa index data/sample --index data/indexes/sample --rebuild

# Everyday work: the tiny in-memory corpora only (no real model, no browser, no Ray, nothing slow).
test-fast: install-test
	$(PY) -m pytest -q -m "not integration and not browser and not ray and not slow"

eval-seed: install
	$(PY) -m qa eval ../shared/data/seed/questions.jsonl --index data/indexes/sample --build data/sample --out reports/seed

eval-pyfaq: install
	$(PY) -m qa eval ../shared/evalsets/pyfaq/questions.jsonl --index data/indexes/pyfaq --build ../shared/evalsets/pyfaq/corpus --out reports/pyfaq

bench: install
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache reports
