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

test: $(STAMP)
	PYOPENGL_PLATFORM=$${PYOPENGL_PLATFORM:-egl} $(BIN)/python -m pytest -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

bench: $(STAMP)
	$(BIN)/motion bench audio bodymodels corpus

corpus: $(STAMP)
	$(BIN)/motion corpus data/corpus --size large

# The shipped demo weights (motion/weights): the synthetic corpus, then every demo stage on the
# CPU (about 2 h on 2 cores; a GPU is picked up automatically), then the exports gathered.
DEMO_STAGES := speech_encoder motion_vae latent_diffusion motion_metrics face_prior lip_reader face_emotion face_decoder face_decoder_exchange
weights: $(STAMP)
	test -d data/corpus_large || $(BIN)/motion corpus data/corpus_large --size large
	for s in $(DEMO_STAGES); do $(BIN)/motion fit --config configs/demo/$$s.yaml || exit 1; done
	# the shipped denoiser: 3000 steps, then resumed to 5000 (a warm restart of the cosine schedule)
	$(BIN)/motion fit --config configs/demo/latent_diffusion.yaml --trainer.max_steps 5000 \
	  --ckpt_path "$$(ls -d runs/demo/latent_diffusion/lightning_logs/version_* | sort -V | tail -1)/checkpoints/last.ckpt"
	$(BIN)/python -m motion.training.pack runs/demo motion/weights

clean:
	rm -rf outputs .pytest_cache
