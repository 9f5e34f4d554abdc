# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
KB_DIR ?= kbdata
PORT ?= 8501

.PHONY: install run ingest app test test-fast browser eval eval-heldout train train-heldout bench bench-1m clean
DATA ?= ../shared/data
TRAIN := $(PY) -m ingest.extract.train --data $(DATA) --cache build/extract/vectors.npz
TAG := $(PY) -m ingest.extract.train_tagger --data $(DATA) --cache build/extract/states.npz

$(STAMP): requirements.txt requirements-dev.txt requirements-scale.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m kb.embedding.tokens
	touch $(STAMP)

install: $(STAMP)

ingest: install
	$(PY) -m ingest corpus/ --kb $(KB_DIR)

app: install
	$(PY) -m streamlit run app.py --server.headless true --server.port $(PORT) --browser.gatherUsageStats false

run: ingest app

# Chromium for the real-browser test, where apt is available; without it that test is skipped.
browser:
	@if command -v chromium >/dev/null 2>&1; then echo "browser: chromium present"; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  && echo "browser: chromium installed" || echo "browser: chromium could not be installed; the browser test will be skipped"; \
	else echo "browser: no apt (or not root); the browser test will be skipped"; fi

test: install browser
	$(PY) -m pytest -rs

test-fast: install
	$(PY) -m pytest -m "not slow and not browser"

eval: install
	$(PY) -m eval.extraction
	$(PY) -m eval.extraction --prose
	$(PY) -m eval.search
	$(PY) -m eval.grouping

# Rebuild the extractors' shipped weights from the open data (fixed seed; see docs/extraction_model.md):
# the span tagger, then the unit classifier.
train: install
	mkdir -p build/extract
	$(TAG)
	$(TRAIN)

# The models trained without each evaluation set's source (and language), for eval-heldout (scored on their
# spans only, so the tagger's are calibrated on the fold: no out-of-source fits).
train-heldout: install
	mkdir -p build/extract
	$(TRAIN) --without skillspan --out build/extract/without_skillspan.npz
	$(TRAIN) --without kompetencer da --out build/extract/without_kompetencer.npz
	$(TRAIN) --without prose --out build/extract/without_prose.npz
	$(TRAIN) --without dev --out build/extract/without_dev.npz
	$(TAG) --without skillspan --out build/extract/tagger_without_skillspan.npz --calibrate fold
	$(TAG) --without kompetencer da --out build/extract/tagger_without_kompetencer.npz --calibrate fold
	$(TAG) --without prose --out build/extract/tagger_without_prose.npz --calibrate fold
	$(TAG) --without dev --out build/extract/tagger_without_dev.npz --calibrate fold

eval-heldout: train-heldout
	$(PY) -m eval.heldout --models build/extract --cache build/extract/vectors.npz

# One table: the product beside the raw encoder + flat FAISS (docs/benchmarks.md); about 10-15 min on 2 cores.
bench: install
	$(PY) -m bench.run

bench-1m: install
	$(PY) -m bench.run --esco 0 --large 0 --synthetic 1000000

clean:
	rm -rf $(KB_DIR) tests/artifacts .pytest_cache
