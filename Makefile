# Two-command quickstart: `make demo` (the main job) and `make test`.
# Each creates (or reuses) .venv, installs torch==2.13.0 (CPU) first, then the project.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-slow bench corpus weights clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	PYOPENGL_PLATFORM=$${PYOPENGL_PLATFORM:-egl} $(BIN)/motion demo --out outputs/demo

# The Khronos glTF validator (npm, from the registry) for tests/test_export_imports.py; the
# tests skip it where node / npm are missing.
GLTF_VALIDATOR := .cache/gltf-validator/node_modules/gltf-validator

$(GLTF_VALIDATOR):
	-command -v npm >/dev/null && timeout 300 npm install --silent --no-audit --no-fund --prefix .cache/gltf-validator gltf-validator@2.0.0-dev.3.10

test: $(STAMP) $(GLTF_VALIDATOR)
	PYOPENGL_PLATFORM=$${PYOPENGL_PLATFORM:-egl} $(BIN)/python -m pytest -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

bench: $(STAMP)
	$(BIN)/motion bench audio bodymodels corpus

corpus: $(STAMP)
	$(BIN)/motion corpus data/corpus --size large

# The shipped demo weights (motion/weights): the synthetic corpus, then every demo stage
# (about 4 h on 2 CPU cores, half of it the denoiser; a GPU is picked up automatically),
# then the exports gathered. The body ships the robustness-distilled speech encoder
# (speech_encoder_robust: augmented, loudness-normalised speech -> the stage-1 latents); the
# face ships the lip-event detector, trained on the public recordings of data/real_train.
# The shipped denoiser (latent_diffusion) ran on one H100 and was stopped by time at step
# 3291 of its 5000-step schedule; StopAtStep replays that stop on any machine.
DEMO_STAGES := motion_metrics flint lip_reader face_emotion face_decoder face_decoder_exchange
weights: $(STAMP)
	test -d data/corpus_large || $(BIN)/motion corpus data/corpus_large --size large
	for s in speech_encoder motion_vae; do $(BIN)/motion fit --config configs/demo/$$s.yaml || exit 1; done
	$(BIN)/motion fit --config configs/demo/latent_diffusion.yaml \
	  --trainer.callbacks+=motion.training.callbacks.StopAtStep --trainer.callbacks.step 3291
	$(BIN)/motion fit --config configs/demo/speech_encoder_robust.yaml
	for s in $(DEMO_STAGES); do $(BIN)/motion fit --config configs/demo/$$s.yaml || exit 1; done
	test -f data/real_train/manifest.csv || { echo "data/real_train is missing: see docs/real_speech_data.md"; exit 1; }
	$(BIN)/motion fit --config configs/demo/closure_detector.yaml
	$(BIN)/python -m motion.training.pack runs/demo motion/weights

clean:
	rm -rf outputs .pytest_cache
