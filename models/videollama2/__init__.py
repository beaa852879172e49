"""Our weight-compatible re-implementation of VideoLLaMA2: vision tower -> connector -> LLM."""

from transformers import AutoConfig

from .config import CONFIGS

for _name, _cls in CONFIGS.items():
    if _name != "videollama2":
        try:
            AutoConfig.register(_name, _cls)
        except ValueError:  # already registered (re-import)
            pass
