"""Configs: the transformers LLM config of each family plus the official multimodal fields."""

from __future__ import annotations

from transformers import MistralConfig, MixtralConfig, Qwen2Config

MM_DEFAULTS = {
    "mm_vision_tower": "openai/clip-vit-large-patch14-336",
    "mm_projector_type": "stc_connector",
    "mm_hidden_size": 1024,
    "mm_vision_select_layer": -2,
    "mm_vision_select_feature": "patch",
    "num_frames": 8,
    "image_aspect_ratio": "pad",
    "tune_mm_mlp_adapter": False,
    "mm_use_im_start_end": False,
    "use_mm_proj": True,
    # Our extension: the vision tower's own config inline, so a checkpoint loads with no hub access.
    "vision_config": None,
}


def _with_mm_defaults(cls: type) -> type:
    init = cls.__init__

    def __init__(self, **kwargs):  # type: ignore[no-untyped-def]
        for k, v in MM_DEFAULTS.items():
            kwargs.setdefault(k, v)
        init(self, **kwargs)

    cls.__init__ = __init__
    return cls


@_with_mm_defaults
class VideoLLaMA2MistralConfig(MistralConfig):
    model_type = "videollama2_mistral"


@_with_mm_defaults
class VideoLLaMA2MixtralConfig(MixtralConfig):
    model_type = "videollama2_mixtral"


@_with_mm_defaults
class VideoLLaMA2Qwen2Config(Qwen2Config):
    model_type = "videollama2_qwen2"


CONFIGS = {
    "videollama2_mistral": VideoLLaMA2MistralConfig,
    "videollama2": VideoLLaMA2MistralConfig,  # older checkpoints: Mistral under the bare name
    "videollama2_mixtral": VideoLLaMA2MixtralConfig,
    "videollama2_qwen2": VideoLLaMA2Qwen2Config,
}
