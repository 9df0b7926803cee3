# bigfix.core developer entry points. `make demo` and `make test` are all a newcomer needs.
PY      ?= python3
VENV    := $(CURDIR)/.venv
BIN     := $(VENV)/bin
COLL    := $(CURDIR)/.collections
PYTEST  := $(BIN)/python -m pytest -p no:cacheprovider
export ANSIBLE_COLLECTIONS_PATH := $(COLL)
export PYTHONPATH := $(COLL)
export PATH := $(BIN):$(PATH)
export ANSIBLE_NOCOLOR := 1
# Keep ansible from writing into the checkout or the user's home.
export ANSIBLE_LOCAL_TEMP := $(CURDIR)/tests/output/.ansible-tmp
export ANSIBLE_HOME := $(CURDIR)/tests/output/.ansible-home

.PHONY: demo test venv link units emulator-tests integration molecule reliability bench-smoke \
        lint docs changelog build-check sanity sanity-run py312 oldest bench clean

demo: venv link
	$(BIN)/python -m tests.demo

test: units emulator-tests integration molecule reliability bench-smoke lint docs changelog build-check

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

link:
	mkdir -p $(COLL)/ansible_collections/bigfix tests/output
	ln -sfn ../../.. $(COLL)/ansible_collections/bigfix/core

units: venv link
	$(PYTEST) -q tests/unit

emulator-tests: venv link
	$(PYTEST) -q -n 2 tests/emulator/tests

integration: venv link
	$(PYTEST) -q tests/integration

molecule: venv link
	NO_COLOR=1 $(BIN)/molecule test --all

reliability: venv link
	$(PYTEST) -q tests/reliability

bench-smoke: venv link
	$(PYTEST) -q benchmarks/test_smoke.py

lint: venv link
	$(BIN)/ansible-lint --offline

docs: venv link
	$(BIN)/antsibull-docs lint-collection-docs --plugin-docs .

# The fragments are valid, and CHANGELOG.rst is what they generate.
changelog: venv
	$(BIN)/antsibull-changelog lint
	$(BIN)/antsibull-changelog generate
	git diff --exit-code -- CHANGELOG.rst

# Build the collection, install it into a temporary path, and render every plugin's and the role's docs from it.
BUILD := $(CURDIR)/tests/output/build
build-check: venv
	rm -rf $(BUILD) && mkdir -p $(BUILD)/collections
	$(BIN)/ansible-galaxy collection build --output-path $(BUILD) --force
	$(BIN)/ansible-galaxy collection install $(BUILD)/bigfix-core-*.tar.gz -p $(BUILD)/collections --force
	cd $(BUILD) && export ANSIBLE_COLLECTIONS_PATH=$(BUILD)/collections && \
	  modules=$$($(BIN)/ansible-doc -t module -l bigfix.core --json | $(BIN)/python -c "import json,sys; print(' '.join(json.load(sys.stdin)))") && \
	  test -n "$$modules" && for m in $$modules; do $(BIN)/ansible-doc -t module $$m > /dev/null && echo "ansible-doc $$m: ok"; done && \
	  for r in $$(ls $(BUILD)/collections/ansible_collections/bigfix/core/roles); do \
	    $(BIN)/ansible-doc -t role bigfix.core.$$r > /dev/null && echo "ansible-doc role bigfix.core.$$r: ok"; done
	$(BIN)/ansible-builder introspect --sanitize $(BUILD)/collections > $(BUILD)/ee-deps.yml
	grep -q "lxml>=.*bigfix.core" $(BUILD)/ee-deps.yml && ! grep -q "requests" $(BUILD)/ee-deps.yml
	$(BIN)/ansible-builder create -f tests/ee/execution-environment.yml -c $(BUILD)/ee-context > /dev/null
	test -s $(BUILD)/ee-context/Containerfile -o -s $(BUILD)/ee-context/Dockerfile && echo "execution environment: ok"

# ansible-test needs a real ansible_collections/bigfix/core copy outside this work tree.
SANITY_ROOT ?= $(or $(TMPDIR),/tmp)/bigfix-core-ansible-test
SANITY_PY ?= 3.11
SANITY_BIN ?= $(BIN)
sanity: venv
	$(MAKE) --no-print-directory sanity-run

sanity-run:
	rm -rf $(SANITY_ROOT) && mkdir -p $(SANITY_ROOT)/ansible_collections/bigfix/core
	git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C $(SANITY_ROOT)/ansible_collections/bigfix/core
	v=$$($(SANITY_BIN)/python -c "import re,os,ansible_test;p=os.path.join(os.path.dirname(ansible_test.__file__),'_internal','python_requirements.py');print(re.search(r\"pip='([0-9.]+)'\",open(p).read()).group(1).replace('.','_'))") && \
	  mkdir -p $(HOME)/.ansible/test/cache && cp hack/ansible-test-get-pip.py $(HOME)/.ansible/test/cache/get_pip_$$v.py
	cd $(SANITY_ROOT)/ansible_collections/bigfix/core && PATH=$(SANITY_BIN):$$PATH $(SANITY_BIN)/ansible-test sanity --python $(SANITY_PY) --color no

# Second leg: the newest ansible-core on Python 3.12, where such an interpreter exists.
PY312 ?= $(firstword $(foreach p,$(shell command -v python3.12 2>/dev/null) $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) /usr/bin/python3.12,\
           $(shell $(p) -c "print('$(p)')" 2>/dev/null)))
VENV312 := $(CURDIR)/.venv312
py312: link
ifeq ($(PY312),)
	@echo "py312 leg: SKIPPED, no working Python 3.12 interpreter was found"
else
	test -x $(VENV312)/bin/python || $(PY312) -m venv $(VENV312)
	$(VENV312)/bin/python -m pip install -q -r requirements-py312.txt
	PATH=$(VENV312)/bin:$$PATH $(VENV312)/bin/python -m pytest -p no:cacheprovider -q tests/unit tests/integration/test_targets.py
	$(MAKE) --no-print-directory sanity-run SANITY_BIN=$(VENV312)/bin SANITY_PY=3.12 SANITY_ROOT=$(SANITY_ROOT)-312
endif

# Third leg: the integration targets with the oldest supported ansible-core.
VENV216 := $(CURDIR)/.venv216
oldest: link
	test -x $(VENV216)/bin/python || $(PY) -m venv $(VENV216)
	$(VENV216)/bin/python -m pip install -q -r requirements-oldest.txt
	PATH=$(VENV216)/bin:$$PATH $(VENV216)/bin/python -m pytest -p no:cacheprovider -q tests/integration/test_targets.py

bench: venv link
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(COLL) tests/output dist .pytest_cache benchmarks/results.json
