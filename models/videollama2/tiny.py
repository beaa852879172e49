"""A tiny configuration of the real architecture (same classes as the 7B) and a word-level
tokenizer built locally: what the tests and the embedded default run."""

from __future__ import annotations

import re
from typing import Any

import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from .config import VideoLLaMA2Qwen2Config
from .modeling import VideoLLaMA2Qwen2ForCausalLM

SPECIALS = ["<unk>", "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<video>", "<image>", "<audio>"]
CHATML = (
    "{%- if messages[0]['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "{%- for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{%- if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
BASE_WORDS = (
    "A B C D E a the is are what which how many colour color shape shapes direction moving move moves left right up "
    "down red green blue yellow purple orange white black circle square triangle star one two three four five zero "
    "yes no appear appears change changes during clip video frames answer option options question best letter only "
    "given choices directly select respond with of in to and or from first second half end start there do does you "
    "system user assistant helpful i not sure"
)


def demo_text() -> str:
    """Every question, option and subtitle the demo sets and the synthetic training set can ask
    or show: the tiny model is built for them, so none of their words may be <unk>."""
    import dataclasses
    import random

    from harness import synth
    from harness.tasks import _demo
    from harness.tasks._trainset import LOOKUP_REQUEST

    spec = dataclasses.replace(synth.random_scene(random.Random(0)), change_to=None)
    changed = dataclasses.replace(spec, change_to=next(c for c in synth.COLORS if c != spec.color))
    parts = [_demo.STILL, LOOKUP_REQUEST, _demo.subtitle_srt(spec), _demo.subtitle_srt(changed),
             *(f"{s}s" for s in synth.SHAPES)]
    for kind in ("color", "change", "clip_before", "clip_after", "shape", "count", "direction", "appear"):
        question, _, pool = _demo.truth(kind, changed, synth)
        parts += [question, *pool]
    return " ".join(parts)


def corpus_words() -> list[str]:
    """Every word of the task instruction templates and the demo vocabulary, lower/upper as written."""
    from harness import prompts
    from harness.task import PROMPT_DIR

    text = BASE_WORDS + " " + demo_text()
    for p in sorted(PROMPT_DIR.glob("*.txt")):  # the instructions (not the judges')
        text += " " + prompts.FIELD.sub(" ", " ".join(prompts.load(p).sections.values()))  # fields are no words
    words = re.findall(r"\w+|[^\w\s]", text)
    return sorted(set(words) | {str(i) for i in range(10)} | set("ABCDE"))


def build_tokenizer(words: list[str] | None = None) -> PreTrainedTokenizerFast:
    vocab = {tok: i for i, tok in enumerate(SPECIALS)}
    for w in words or corpus_words():
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<|endoftext|>",
                                   eos_token="<|im_end|>", additional_special_tokens=SPECIALS[2:])
    fast.chat_template = CHATML
    return fast


def tiny_config(vocab_size: int, **overrides: Any) -> VideoLLaMA2Qwen2Config:
    vision = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                  image_size=56, patch_size=14, model_type="clip_vision_model")
    cfg = dict(vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
               num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
               tie_word_embeddings=False, mm_vision_tower="tiny-clip-vit-56", mm_hidden_size=32,
               mm_projector_type="stc_connector", num_frames=8, vision_config=vision,
               bos_token_id=None, eos_token_id=3, pad_token_id=1)
    cfg.update(overrides)
    return VideoLLaMA2Qwen2Config(**cfg)


def build_tiny_model(seed: int = 0, **overrides: Any) -> tuple[torch.nn.Module, PreTrainedTokenizerFast]:
    tokenizer = build_tokenizer()
    torch.manual_seed(seed)
    config = tiny_config(len(tokenizer), **overrides)
    config._attn_implementation = "sdpa"
    model = VideoLLaMA2Qwen2ForCausalLM(config)
    return model.eval(), tokenizer
