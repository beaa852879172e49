"""Tiny random-weight checkpoints of three video LLM architectures that transformers loads with
AutoModelForImageTextToText + AutoProcessor (VideoLLaMA3, Qwen2.5-VL, LLaVA-OneVision), built offline
for the `hf` adapter's tests: the real model classes and processors at a few dozen hidden units, a
word-level tokenizer built locally (harness.models.videollama2.tiny's vocabulary plus each model's
special tokens) and a chat template shaped like the real checkpoint's (the real one comes from the
checkpoint's own chat_template.jinja; the adapter never supplies one).

Where torchvision is missing (transformers' video processors need it), the video processor's config is
written as the real class would write it, so the folder is the same either way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

KINDS = ("video_llama_3", "qwen2_5_vl", "llava_onevision")  # the video LLMs; "llava" (1.5) takes images only

# Every model's own special tokens: chat markers, pad / eos, the image and video placeholders.
QWEN_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                 "<|image_pad|>", "<|video_pad|>"]
LLAVA_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>", "<video>"]
# Words the templates and the processors' own prompt text use ("Time 1.0s:" before each VideoLLaMA3 frame)
TEMPLATE_WORDS = ("You are VideoLLaMA3 created by Alibaba DAMO Academy , a helpful assistant to help people "
                  "understand images and videos . system user assistant Time s : , hello world what is this "
                  + " ".join(f"{d}s" for d in range(10)))

# Qwen2-VL / Qwen2.5-VL-Instruct's template, as their checkpoints ship it.
QWEN_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
# Shaped like VideoLLaMA3-HF's: ChatML with its own system prompt, a newline after each visual part.
VIDEOLLAMA3_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are VideoLLaMA3 created by Alibaba DAMO Academy, a helpful assistant to help people "
    "understand images and videos.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' %}<|image_pad|>\n"
    "{% elif content['type'] == 'video' %}<|video_pad|>\n"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
# Shaped like llava-hf/llava-onevision-qwen2-*-ov-hf's: images, then videos, then the text of each turn.
LLAVA_OV_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}<image>\n{% endfor %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'video') %}<video>\n{% endfor %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] }}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


# The video processors sample frames themselves unless told not to (newer checkpoints ship this; the
# adapter must turn it off: the harness has sampled the frames already).
SAMPLES = {"do_sample_frames": True, "num_frames": 4}


def build_tokenizer(specials: list[str], template: str, pad: bool = True, **tokens: Any) -> Any:
    """A word-level fast tokenizer over the demo vocabulary, with `specials` as special tokens; `pad`
    False: no pad token (as LLaMA-based checkpoints ship theirs)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from harness.models.videollama2.tiny import corpus_words

    vocab = {"<unk>": 0}
    for tok in specials:
        vocab.setdefault(tok, len(vocab))
    for w in corpus_words() + TEMPLATE_WORDS.split():
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    if pad:
        tokens["pad_token"] = "<|endoftext|>"
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<|im_end|>",
                                   additional_special_tokens=specials[1:], **tokens)
    fast.chat_template = template
    return fast


def _text_config(vocab_size: int, tok: Any, **extra: Any) -> dict[str, Any]:
    return dict(vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                bos_token_id=None, eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"),
                pad_token_id=tok.pad_token_id, initializer_range=0.2, **extra)


def _video_processor(cls_name: str, **kwargs: Any) -> Any:
    """The video processor, or (no torchvision) a stand-in that saves the same config file."""
    import transformers
    from transformers.utils import is_torchvision_available

    if is_torchvision_available():
        return getattr(transformers, cls_name)(**kwargs)
    return _ConfigOnly(cls_name, kwargs)


class _ConfigOnly:
    """Writes video_preprocessor_config.json as the real class would (its own defaults fill the rest
    when it loads)."""

    def __init__(self, cls_name: str, kwargs: dict[str, Any]):
        self.cls_name, self.kwargs = cls_name, kwargs

    def save_pretrained(self, path: Path) -> None:
        (Path(path) / "video_preprocessor_config.json").write_text(
            json.dumps({**self.kwargs, "video_processor_type": self.cls_name}, indent=2))


def _qwen2_5_vl(seed: int, pad: bool = True) -> tuple[Any, Any, Any, Any]:
    import transformers

    tok = build_tokenizer(QWEN_SPECIALS, QWEN_TEMPLATE, pad)
    ids = {t: tok.convert_tokens_to_ids(t) for t in QWEN_SPECIALS}
    text = _text_config(len(tok), tok, rope_parameters={"rope_type": "default", "rope_theta": 10000.0,
                                                        "mrope_section": [2, 3, 3]})
    vision = dict(depth=1, hidden_size=32, intermediate_size=64, num_heads=2, patch_size=14, spatial_merge_size=2,
                  temporal_patch_size=2, out_hidden_size=64, window_size=56, fullatt_block_indexes=[0],
                  tokens_per_second=2, initializer_range=0.2)
    config = transformers.Qwen2_5_VLConfig(text_config=text, vision_config=vision,
                                           image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
                                           vision_start_token_id=ids["<|vision_start|>"],
                                           vision_end_token_id=ids["<|vision_end|>"])
    pixels = dict(size={"shortest_edge": 28 * 28, "longest_edge": 56 * 56})
    image = transformers.Qwen2VLImageProcessorPil(**pixels)
    video = _video_processor("Qwen2VLVideoProcessor", cap_pixels_per_frame=True, **SAMPLES, **pixels)
    return config, tok, image, video


def _video_llama_3(seed: int, pad: bool = True) -> tuple[Any, Any, Any, Any]:
    import transformers

    tok = build_tokenizer(QWEN_SPECIALS, VIDEOLLAMA3_TEMPLATE, pad)
    text = _text_config(len(tok), tok, model_type="qwen2")
    vision = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, patch_size=14,
                  initializer_range=0.2)
    config = transformers.VideoLlama3Config(text_config=text, vision_config=vision,
                                            image_token_id=tok.convert_tokens_to_ids("<|image_pad|>"),
                                            video_token_id=tok.convert_tokens_to_ids("<|video_pad|>"))
    image = transformers.VideoLlama3ImageProcessorPil(size={"shortest_edge": 28 * 28, "longest_edge": 56 * 56})
    video = _video_processor("VideoLlama3VideoProcessor", size={"shortest_edge": 28 * 28, "longest_edge": 56 * 56},
                             **SAMPLES)
    return config, tok, image, video


def _llava_onevision(seed: int, pad: bool = True) -> tuple[Any, Any, Any, Any]:
    import transformers

    tok = build_tokenizer(LLAVA_SPECIALS, LLAVA_OV_TEMPLATE, pad)
    text = _text_config(len(tok), tok, model_type="qwen2")
    vision = dict(model_type="siglip_vision_model", hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                  num_attention_heads=2, patch_size=14, image_size=28, vision_use_head=False)
    pinpoints = [[28, 28], [28, 56], [56, 28], [56, 56]]
    config = transformers.LlavaOnevisionConfig(text_config=text, vision_config=vision,
                                               image_token_index=tok.convert_tokens_to_ids("<image>"),
                                               video_token_index=tok.convert_tokens_to_ids("<video>"),
                                               image_grid_pinpoints=pinpoints, vision_feature_select_strategy="full",
                                               vision_aspect_ratio="anyres_max_9")
    image = transformers.LlavaOnevisionImageProcessorPil(size={"height": 28, "width": 28},
                                                         image_grid_pinpoints=pinpoints)
    video = _video_processor("LlavaOnevisionVideoProcessor", size={"height": 28, "width": 28}, **SAMPLES)
    return config, tok, image, video


def _llava(seed: int, pad: bool = True) -> tuple[Any, Any, Any, None]:
    """LLaVA-1.5's architecture: an image-only model (its processor has no video processor)."""
    import transformers

    tok = build_tokenizer(LLAVA_SPECIALS, LLAVA_OV_TEMPLATE, pad)
    text = _text_config(len(tok), tok, model_type="qwen2")
    vision = dict(model_type="clip_vision_model", hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                  num_attention_heads=2, patch_size=14, image_size=28, projection_dim=32)
    config = transformers.LlavaConfig(text_config=text, vision_config=vision,
                                      image_token_index=tok.convert_tokens_to_ids("<image>"), image_seq_length=4,
                                      vision_feature_select_strategy="default", vision_feature_layer=-1)
    image = transformers.CLIPImageProcessorPil(size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28})
    return config, tok, image, None


BUILDERS = {"qwen2_5_vl": _qwen2_5_vl, "video_llama_3": _video_llama_3, "llava_onevision": _llava_onevision,
            "llava": _llava}
PROCESSORS = {"qwen2_5_vl": "Qwen2_5_VLProcessor", "video_llama_3": "VideoLlama3Processor",
              "llava_onevision": "LlavaOnevisionProcessor", "llava": "LlavaProcessor"}
CLASSES = {"qwen2_5_vl": "Qwen2_5_VLForConditionalGeneration", "video_llama_3": "VideoLlama3ForConditionalGeneration",
           "llava_onevision": "LlavaOnevisionForConditionalGeneration", "llava": "LlavaForConditionalGeneration"}
PROCESSOR_ARGS = {"llava_onevision": {"num_image_tokens": 4, "vision_feature_select_strategy": "full",
                                      "vision_aspect_ratio": "anyres_max_9"},
                  "llava": {"patch_size": 14, "vision_feature_select_strategy": "default",
                            "num_additional_image_tokens": 1}}


def build(kind: str, out: Path, seed: int = 0, pad: bool = True) -> Path:
    """Save a tiny `kind` checkpoint (model, tokenizer, processors, chat template) into `out`; `pad`
    False: its tokenizer and configs have no pad token."""
    import torch
    import transformers

    config, tok, image, video = BUILDERS[kind](seed, pad)
    torch.manual_seed(seed)
    model = transformers.AutoModelForImageTextToText.from_config(config).eval()
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    image.save_pretrained(out)
    if video is not None:
        video.save_pretrained(out)
    (out / "chat_template.jinja").write_text(tok.chat_template)
    processor_config = {"processor_class": PROCESSORS[kind], **PROCESSOR_ARGS.get(kind, {})}
    (out / "processor_config.json").write_text(json.dumps(processor_config, indent=2))
    return out
