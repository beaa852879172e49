"""Build the tiny VideoLLaMA2 checkpoint (same classes as the 7B) with seeded random weights.

    python scripts/make_tiny_checkpoint.py [OUT]   (default: models/videollama2/tiny_default)

The training recipe (issue: train-then-eval) replaces these weights with trained ones.
"""

import sys
from pathlib import Path

from models.videollama2.load import save_checkpoint
from models.videollama2.tiny import build_tiny_model

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "models/videollama2/tiny_default"
model, tokenizer = build_tiny_model(seed=0)
save_checkpoint(model, out, tokenizer)
print(f"wrote {out} ({sum(p.numel() for p in model.parameters())} parameters)")
