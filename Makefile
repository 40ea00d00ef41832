# Development build of the C engine, in place, for one interpreter at a time:
#   make PYTHON=/path/to/python3.X        -> scalene/_engine<EXT_SUFFIX>
#   make sanitize PYTHON=...              -> the same, built with ASan+UBSan
#   make test PYTHON=...                  -> run the test suite for that interpreter
# Each interpreter gets its own object directory (build/<soabi>-<version>), and
# the extension's ABI suffix keeps builds for different minors side by side.
PYTHON   ?= python3
CC       ?= cc
PYINFO   := $(shell $(PYTHON) -c "import sysconfig,sys;print(sysconfig.get_paths()['include'], sysconfig.get_config_var('EXT_SUFFIX'), sysconfig.get_config_var('SOABI'), '%d.%d.%d' % sys.version_info[:3])")
PYINC    := $(word 1,$(PYINFO))
EXTSUF   := $(word 2,$(PYINFO))
SOABI    := $(word 3,$(PYINFO))
PYVER    := $(word 4,$(PYINFO))
VARIANT  ?= release
BUILDDIR := build/$(SOABI)-$(PYVER)-$(VARIANT)

# The engine's source directories.
SOURCES  := $(sort $(wildcard engine/*.c engine/frames/*.c engine/gpu/*.c engine/memory/*.c))
SOURCES  := $(filter-out engine/tests/%,$(SOURCES))
OBJECTS  := $(patsubst engine/%.c,$(BUILDDIR)/%.o,$(SOURCES))
HEADERS  := $(wildcard engine/*.h engine/*/*.h)

WARN     := -Wall -Wextra -Werror -Wno-missing-field-initializers
# Every symbol bound at load time: the signal handler must never enter the
# dynamic linker's lazy resolver (not async-signal-safe, and racing with a
# dlopen in the interrupted thread).
LDFLAGS_COMMON := -Wl,-z,now
CFLAGS_COMMON := -std=gnu11 -fPIC -fvisibility=hidden -D_GNU_SOURCE -I$(PYINC) -Iengine $(WARN)
ifeq ($(VARIANT),sanitize)
  OPT    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  LDSAN  := -fsanitize=address,undefined
  TARGET := build/sanitize-$(SOABI)-$(PYVER)/scalene/_engine$(EXTSUF)
else
  OPT    := -O2 -g
  LDSAN  :=
  TARGET := scalene/_engine$(EXTSUF)
endif

.PHONY: all sanitize test check demo clean FORCE
all: $(TARGET)

# Always relinked (cheap): two interpreters of one minor version (pyenv's
# 3.11.7 and Debian's 3.11.2) share the in-place file name, so the file may
# come from the other one's objects.
$(TARGET): $(OBJECTS) FORCE
	@mkdir -p $(dir $@)
	$(CC) -shared $(OPT) $(LDSAN) $(LDFLAGS_COMMON) -o $@ $(OBJECTS) -lm -lpthread -ldl -lrt

$(BUILDDIR)/%.o: engine/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(OPT) -c $< -o $@

# The sanitizer build goes to its own directory; tests load it through
# SCALENE_ENGINE_PATH with libasan preloaded (see tests/conftest.py).
sanitize:
	$(MAKE) VARIANT=sanitize PYTHON=$(PYTHON)
	@echo build/sanitize-$(SOABI)-$(PYVER)/scalene/_engine$(EXTSUF)

test: all
	$(PYTHON) -m pytest -q tests

# The whole suite on every CPython 3.9-3.13 present (what CI runs).
check:
	bash tools/check.sh

# Build, then profile the bundled example: terminal report, JSON and HTML.
demo: all
	$(PYTHON) -m scalene run -o scalene-profile.json examples/demo.py
	$(PYTHON) -m scalene view --cli scalene-profile.json
	$(PYTHON) -m scalene view --html scalene-profile.json

clean:
	rm -rf build scalene/_engine*.so

FORCE:
