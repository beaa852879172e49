"""The `hf` adapter: any video LLM that transformers loads with AutoModelForImageTextToText and
AutoProcessor (VideoLLaMA3, Qwen2-VL / 2.5-VL / 3-VL, LLaVA-OneVision, LLaVA-NeXT-Video, Video-LLaVA,
InternVL, SmolVLM, ...), through the model's own chat template and processor.

The harness reads the frames (the run's frame policy, recorded per sample); they go to the model's
video processor as one video with their source frame indices and rate, and with frame sampling off,
so the processor neither re-samples them nor invents timestamps. `frames_as=images` gives them to the
image processor instead, one image part each (for a machine without torchvision, which transformers'
video processors need; recorded as a deviation). The task's instruction is the user turn's text,
unchanged; any system prompt comes from the model's own chat template.

Decoding is the task's (its gen_kwargs, then --gen-kwargs): a benchmark's protocol, not the model's
recommended settings. Of the checkpoint's generation_config.json only the special token ids and the
length limits apply; whatever else it asks for (Qwen2.5-VL: repetition_penalty 1.05, and for sampling
temperature 0.1, top_p 0.001) is left out and recorded in info() as `generation_config_ignored`.
Unset sampling settings are neutral: temperature 1, top_p 1, no top-k filter.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from harness.errors import ConfigError, ModelLoadError
from harness.model import ModelAdapter, ModelDescription, check_number, check_positive_int, weights_digest
from harness.models.adapters._torch_args import TORCH_DTYPE, check_attn, check_runtime, resolve_device, resolve_dtype
from harness.types import FramePolicy, Frames, Request

ARGS = ("path", "dtype", "device", "batch_size", "attn", "num_frames", "fps", "min_frames", "max_frames",
        "frames_as")
FRAMES_AS = ("video", "images")
# What the outputs depend on besides the weights: configs (json), the chat template, tokenizer models.
CHECKPOINT_FILES = ("*.safetensors", "*.bin", "*.json", "*.jinja", "*.model", "*.txt", "*.tiktoken")
# What a checkpoint folder must hold besides config.json (any of each), checked before anything loads.
WEIGHT_INDEXES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")
TOKENIZER_FILES = ("tokenizer.json", "*.model", "vocab.json", "vocab.txt", "*.tiktoken")
PROCESSOR_FILES = ("preprocessor_config.json", "processor_config.json")
FOLDER_HINT = ("the folder needs what save_pretrained writes for the model and its processor (from the hub: every "
               "file of the repository)")
# What transformers raises for a checkpoint it cannot load (with safetensors' SafetensorError).
LOAD_ERRORS: tuple[type[BaseException], ...] = (OSError, ValueError, KeyError, RuntimeError, ImportError)
# The checkpoint's generation settings that apply: special token ids, length limits, the cache. The rest
# of its generation_config.json is the model's recommendation, not the benchmark's protocol.
GENERATION_KEPT = ("bos_token_id", "eos_token_id", "pad_token_id", "decoder_start_token_id", "max_length",
                   "max_new_tokens", "use_cache", "cache_implementation", "cache_config")
# What generate() applies where the task sets nothing: a checkpoint's value equal to it changes nothing.
GENERATION_NEUTRAL: dict[str, Any] = {
    "do_sample": False, "num_beams": 1, "num_beam_groups": 1, "temperature": 1.0, "top_k": 0, "top_p": 1.0,
    "typical_p": 1.0, "epsilon_cutoff": 0.0, "eta_cutoff": 0.0, "repetition_penalty": 1.0,
    "encoder_repetition_penalty": 1.0, "length_penalty": 1.0, "no_repeat_ngram_size": 0,
    "encoder_no_repeat_ngram_size": 0, "min_length": 0, "min_new_tokens": 0, "early_stopping": False,
    "diversity_penalty": 0.0, "num_return_sequences": 1, "output_attentions": False, "output_hidden_states": False,
    "output_scores": False, "output_logits": False, "return_dict_in_generate": False, "remove_invalid_values": False,
    "renormalize_logits": False}
TORCHVISION_HINT = ("install the torchvision build made for this torch; or frames_as=images: each frame goes to the "
                    "model's image processor as one image (recorded as a deviation)")


def torchvision_usable() -> bool:
    """Whether transformers' video processors can run here: torchvision installed, importable with this
    torch, and seen by transformers."""
    return torchvision_problem() is None


def torchvision_problem() -> str | None:
    """Why transformers' video processors cannot run here (None: they can)."""
    import torch

    if importlib.util.find_spec("torchvision") is None:
        return "torchvision is not installed"
    try:
        import torchvision  # noqa: F401 - a build for another torch fails here
        from transformers.utils import is_torchvision_available
    except Exception as e:  # noqa: BLE001 - any failure to import means: not usable
        return f"torchvision does not load with this torch ({torch.__version__}): {type(e).__name__}: {_one_line(e)}"
    if not is_torchvision_available():
        return f"transformers does not find torchvision usable with this torch ({torch.__version__})"
    return None


def video_refusal(problem: str) -> ConfigError:
    return ConfigError(f"hf frames_as=video (the default): transformers' video processors need torchvision; "
                       f"{problem}", hint=TORCHVISION_HINT)


def _one_line(e: BaseException, limit: int = 400) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= limit else text[:limit] + " ..."


def check_files(path: Path) -> None:
    """The weights (every shard an index names), a tokenizer and a processor config are in the folder,
    or one ConfigError that names the folder and everything missing."""
    missing = []
    index = next((path / name for name in WEIGHT_INDEXES if (path / name).is_file()), None)
    if index is not None:
        try:
            shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            raise ConfigError(f"hf path={path}: {index.name} cannot be read ({type(e).__name__}: {_one_line(e)})",
                              hint=FOLDER_HINT) from None
        absent = [str(shard) for shard in shards if not (path / str(shard)).is_file()]
        if absent:
            shown = ", ".join(absent[:3]) + (f" and {len(absent) - 3} more" if len(absent) > 3 else "")
            missing.append(f"weight shards {index.name} names ({shown})")
    elif not any(path.glob("*.safetensors")) and not [f for f in path.glob("*.bin") if f.name != "training_args.bin"]:
        missing.append("weights (*.safetensors or *.bin)")
    if not any(any(path.glob(pattern)) for pattern in TOKENIZER_FILES):
        missing.append("tokenizer (tokenizer.json, tokenizer.model, vocab.json, vocab.txt or *.tiktoken)")
    if not any((path / name).is_file() for name in PROCESSOR_FILES):
        missing.append("processor config (preprocessor_config.json or processor_config.json)")
    if missing:
        raise ConfigError(f"hf path={path}: this checkpoint folder has no " + "; no ".join(missing), hint=FOLDER_HINT)


@contextmanager
def loading(path: Path, what: str) -> Iterator[None]:
    """What transformers (or safetensors) raises for a checkpoint it cannot load becomes one
    ModelLoadError that names the folder and the part: the CLI prints it, exit 2, no traceback."""
    from safetensors import SafetensorError

    try:
        yield
    except (*LOAD_ERRORS, SafetensorError) as e:
        reason = _one_line(e)
        hint = ("free memory on the device, or use a smaller dtype (bf16) or another device"
                if "out of memory" in reason.lower() else
                FOLDER_HINT + ", and a transformers that supports this model (this one: "
                + importlib.metadata.version("transformers") + ")")
        raise ModelLoadError(f"hf path={path}: cannot load the {what} ({type(e).__name__}: {reason})",
                             hint=hint) from e


def checkpoint_generation_config(path: Path) -> dict[str, Any]:
    """The generation settings transformers loads with the model: generation_config.json, else those
    config.json gives (as from_pretrained does); every attribute, None where unset."""
    from transformers import GenerationConfig

    with loading(path, "generation config"):
        if (path / "generation_config.json").is_file():
            config = GenerationConfig.from_pretrained(str(path))
        else:
            config = GenerationConfig.from_pretrained(str(path), config_file_name="config.json",
                                                      _from_model_config=True)
    return config.to_dict()


def generation_ignored(settings: dict[str, Any]) -> dict[str, Any]:
    """What the checkpoint's generation settings ask for that generate() does not apply: every decoding
    setting it gives, besides the kept ones and those equal to the neutral default."""
    from transformers import GenerationConfig

    known = GenerationConfig().to_dict()
    return {k: v for k, v in sorted(settings.items())
            if k in known and not k.startswith("_") and k != "transformers_version" and k not in GENERATION_KEPT
            and v is not None and GENERATION_NEUTRAL.get(k, object()) != v}


def read_config(path: Path) -> dict[str, Any]:
    """The checkpoint's config.json, or a ConfigError that names the folder and what is wrong with it."""
    if not path.is_dir():
        raise ConfigError(f"hf path={path}: no such directory", hint="path names a local checkpoint folder "
                          "(as saved by save_pretrained or downloaded from the hub)")
    try:
        config = json.loads((path / "config.json").read_text())
    except FileNotFoundError:
        raise ConfigError(f"hf path={path}: no config.json in this folder",
                          hint="point path at the folder that holds config.json, the weights and the processor files") from None
    except (OSError, ValueError) as e:
        raise ConfigError(f"hf path={path}: config.json cannot be read ({e})") from None
    if not isinstance(config, dict):
        raise ConfigError(f"hf path={path}: config.json holds no configuration object")
    return config


def model_class_name(path: Path, config: dict[str, Any]) -> str:
    """The AutoModelForImageTextToText class for this checkpoint's model_type, or a ConfigError."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES as MAPPING

    model_type = config.get("model_type")
    if model_type not in MAPPING:
        what = f"model_type {model_type!r}" if model_type else "no model_type"
        hint = ("the hf adapter takes transformers-native video/vision LLMs (Qwen2.5-VL, VideoLLaMA3, LLaVA-OneVision, "
                "...); this project's own VideoLLaMA2 checkpoints use --model videollama2")
        if config.get("auto_map"):
            hint = ("this checkpoint brings its own modeling code (auto_map), which the hf adapter does not run; use "
                    "the model's transformers-native conversion (its `-hf` checkpoint), or " + hint.split("; ")[1])
        raise ConfigError(f"hf path={path}: {what} is not an image-text-to-text model that transformers "
                          "loads with AutoModelForImageTextToText", hint=hint)
    return str(MAPPING[model_type])


@dataclass(frozen=True)
class Settings:
    """The model args resolved (defaults filled in), as the adapter records them in results.json."""

    path: Path
    batch_size: int
    device: str
    dtype: str  # torch dtype name
    attn: str
    frames_as: str
    policy: FramePolicy | None
    args: dict[str, Any]

    @classmethod
    def resolve(cls, args: dict[str, Any]) -> Settings:
        unknown = set(args) - set(ARGS)
        if unknown:
            raise ConfigError(f"unknown hf model args {sorted(unknown)}", hint=f"known: {sorted(ARGS)}")
        if not args.get("path"):
            raise ConfigError("hf needs path=DIR: the checkpoint folder",
                              hint="e.g. --model-args path=/models/Qwen2.5-VL-7B-Instruct,batch_size=4")
        path = Path(str(args["path"])).expanduser()
        batch_size = check_positive_int(args.get("batch_size", 1), "hf batch_size")
        device = resolve_device("hf", args.get("device"))
        dtype_arg = resolve_dtype("hf", args.get("dtype"), device, gpu_default="bf16")
        attn = check_attn("hf", args.get("attn"))
        frames_as = str(args.get("frames_as", "video"))
        if frames_as not in FRAMES_AS:
            raise ConfigError(f"hf frames_as={frames_as!r}", hint="video (the model's video processor) or images "
                                                                  "(one image part per frame, a deviation)")
        policy = cls._policy(args)
        recorded = {"path": str(path), "dtype": dtype_arg, "device": device, "batch_size": batch_size,
                    "frames_as": frames_as,
                    **{k: args[k] for k in ("attn", "num_frames", "fps", "min_frames", "max_frames") if k in args}}
        return cls(path, batch_size, device, TORCH_DTYPE[dtype_arg], attn, frames_as, policy, recorded)

    @staticmethod
    def _policy(args: dict[str, Any]) -> FramePolicy | None:
        """num_frames=N -> uniform:N; fps=F[,min_frames,max_frames] -> fps:F; neither: the task's default."""
        given = {k for k in ("num_frames", "fps", "min_frames", "max_frames") if args.get(k) not in (None, "")}
        if "num_frames" in given and given - {"num_frames"}:
            raise ConfigError("hf num_frames with fps/min_frames/max_frames",
                              hint="num_frames=N samples N frames uniformly; fps=F[,min_frames=A,max_frames=B] "
                                   "samples F a second: use one")
        if "num_frames" in given:
            return FramePolicy("uniform", check_positive_int(args["num_frames"], "hf num_frames"))
        if "fps" in given:
            lo = check_positive_int(args.get("min_frames", 1), "hf min_frames")
            hi = check_positive_int(args.get("max_frames", 256), "hf max_frames")
            fps = check_number(args["fps"], "hf fps", 0, above=True)
            return FramePolicy("fps", n=0, fps=fps, min_frames=lo, max_frames=hi)
        if given:
            raise ConfigError(f"hf {' and '.join(sorted(given))} without fps", hint="min_frames/max_frames bound fps=F")
        return None

    def fingerprint(self) -> str:
        """The checkpoint's files (weights, configs, chat template, tokenizer), the dtype, the frames
        and how they are given: what changes an output."""
        blob = [weights_digest(self.path, CHECKPOINT_FILES), self.dtype, str(self.policy), self.frames_as]
        return "hf-" + hashlib.sha256(json.dumps(blob).encode()).hexdigest()[:16]

    def deviations(self, checkpoint_dtype: str | None) -> list[str]:
        out = []
        if self.frames_as == "images":
            out.append("frames given to the image processor, one image part each (frames_as=images), not to the "
                       "model's video processor")
        if checkpoint_dtype and checkpoint_dtype != self.dtype:
            out.append(f"weights in {self.dtype} (the checkpoint's: {checkpoint_dtype})")
        return out


def checkpoint_dtype(config: dict[str, Any]) -> str | None:
    dtype = config.get("dtype") or config.get("torch_dtype") or (config.get("text_config") or {}).get("dtype")
    return str(dtype).replace("torch.", "") if dtype else None


def video_metadata(frames: Frames) -> dict[str, Any]:
    """What the video processor knows of the harness's frames: the source's frame rate and the frame
    indices read (the timestamps VideoLLaMA3 / Qwen3-VL / SmolVLM write into the prompt are index / fps,
    the harness's own), and a frame count that makes `sampled_fps` the rate the frames were taken at
    over the span they cover (Qwen2.5-VL's temporal positions), as qwen-vl-utils computes it for a clip."""
    indices = [int(i) for i in frames.indices]
    t = len(indices)
    fps = float(frames.fps) if frames.fps else None
    span = indices[-1] - indices[0] if t else 0
    total = round(span * t / (t - 1)) if t > 1 and span > 0 else (frames.video_frames or t)
    height, width = frames.array.shape[1:3]
    return {"total_num_frames": max(int(total), t), "fps": fps, "frames_indices": indices,
            "duration": (frames.video_frames / fps) if fps and frames.video_frames else None,
            "height": int(height), "width": int(width)}


class HFAdapter(ModelAdapter):
    name = "hf"
    model_args: ClassVar[dict[str, str]] = {
        "path": "checkpoint folder (required): config.json, weights, tokenizer, processor config and chat template",
        "dtype": "bf16, fp16 or fp32 (default: bf16 on a GPU, fp32 on a CPU)",
        "device": "cuda, cuda:N or cpu (default: cuda when visible)",
        "batch_size": "requests per generate call (default 1; left-padded: in fp32 outputs equal batch 1's, in "
                      "bf16/fp16 a near-tie may go the other way)",
        "attn": "auto, sdpa, eager or flash_attention_2 (default auto: transformers' choice)",
        "num_frames": "frames per video, uniform (default: the task's frame policy)",
        "fps": "frames per second instead of num_frames (bounded by min_frames, max_frames)",
        "min_frames": "with fps: at least this many frames (default 1)",
        "max_frames": "with fps: at most this many frames (default 256)",
        "frames_as": "video (default: the model's video processor; needs torchvision) or images (one image per "
                     "frame, no torchvision needed; a deviation)",
    }

    def __init__(self, **args: Any):
        import torch
        import transformers

        s = Settings.resolve(args)
        config = read_config(s.path)
        model_class_name(s.path, config)
        check_files(s.path)
        self.settings, self.args, self.batch_size = s, s.args, s.batch_size
        generation = checkpoint_generation_config(s.path)
        self._generation_ignored = generation_ignored(generation)
        with loading(s.path, "processor"):
            self.processor = load_processor(s.path, s.frames_as)
        if s.frames_as == "video" and getattr(self.processor, "video_processor", None) is None:
            raise ConfigError(f"hf path={s.path}: this model's processor ({type(self.processor).__name__}) takes no "
                              "video", hint="frames_as=images gives it the frames as images (a deviation)")
        tok = self.processor.tokenizer
        tok.padding_side = "left"  # generation continues every row from its last token (inputs() says so too)
        if tok.pad_token is None:  # batches need one; the mask keeps it out of attention
            if tok.eos_token is None:
                raise ModelLoadError(f"hf path={s.path}: the tokenizer has neither a pad nor an eos token",
                                     hint="batches are padded: give tokenizer_config.json a pad_token")
            tok.pad_token = tok.eos_token
        load: dict[str, Any] = {"dtype": getattr(torch, s.dtype)}
        if s.attn != "auto":
            load["attn_implementation"] = s.attn
        with loading(s.path, "weights"):
            model = transformers.AutoModelForImageTextToText.from_pretrained(str(s.path), **load)
            self.model = model.to(s.device).eval()
        self.model.generation_config = self._neutral_generation_config(generation)
        self._checkpoint_dtype = checkpoint_dtype(config)
        self._fp = s.fingerprint()

    def _neutral_generation_config(self, checkpoint: dict[str, Any]) -> Any:
        """The checkpoint's special token ids (from its generation config, else its model config) and
        length limits, nothing else: every decoding setting is the task's, or transformers' neutral one."""
        from transformers import GenerationConfig

        from_model = GenerationConfig.from_model_config(self.model.config).to_dict()
        kept = {k: checkpoint.get(k) if checkpoint.get(k) is not None else from_model.get(k) for k in GENERATION_KEPT}
        return GenerationConfig(**{k: v for k, v in kept.items() if v is not None})

    @classmethod
    def check_args(cls, **args: Any) -> None:
        """Every arg known and in range, the folder a checkpoint of a supported model, and what the
        device, the attention implementation and frames_as=video need present, before anything loads."""
        s = Settings.resolve(args)
        model_class_name(s.path, read_config(s.path))
        check_files(s.path)
        declared = declared_processor(s.path)
        with loading(s.path, "processor class"):
            unknown = declared is not None and _processor_class(declared[1]) is None
        if declared and unknown:
            raise ConfigError(f"hf path={s.path}: {declared[0]} names processor_class {declared[1]!r}, which this "
                              "transformers does not have", hint=newer_transformers_hint())
        checkpoint_generation_config(s.path)  # readable
        check_runtime("hf", s.device, s.attn)
        if s.frames_as == "video" and (problem := torchvision_problem()):
            raise video_refusal(problem)

    @classmethod
    def describe(cls, **args: Any) -> ModelDescription:
        """From the args and config.json, without loading the weights (the fingerprint hashes the
        checkpoint's files as loading does)."""
        s = Settings.resolve(args)
        config = read_config(s.path)
        info = {"model_type": config.get("model_type"), "class": model_class_name(s.path, config), "dtype": s.dtype,
                "device": s.device, "frames_as": s.frames_as,
                "generation_config_ignored": generation_ignored(checkpoint_generation_config(s.path))}
        return ModelDescription(cls.name, s.args, s.fingerprint(), s.policy, s.deviations(checkpoint_dtype(config)),
                                info, s.batch_size)

    def fingerprint(self) -> str:
        return self._fp

    def frame_policy(self) -> FramePolicy | None:
        return self.settings.policy

    def deviations(self) -> list[str]:
        return self.settings.deviations(self._checkpoint_dtype)

    def info(self) -> dict[str, Any]:
        return {"model_type": self.model.config.model_type, "class": type(self.model).__name__,
                "dtype": str(self.model.dtype).replace("torch.", ""), "device": str(self.model.device),
                "frames_as": self.settings.frames_as, "attn_implementation": self.model.config._attn_implementation,
                "params": sum(p.numel() for p in self.model.parameters()),
                "generation_config_ignored": dict(self._generation_ignored)}

    def inputs(self, requests: list[Request]) -> Any:
        """The batch as the processor makes it: each request one user turn through the model's chat
        template, left-padded."""
        conversations, metadata = [], []
        for r in requests:
            content: list[dict[str, Any]] = []
            if r.frames is not None and r.modal != "text":
                if r.modal == "image" or self.settings.frames_as == "images":
                    content += [{"type": "image", "image": frame} for frame in r.frames.array]
                else:
                    content.append({"type": "video", "video": r.frames.array})
                    metadata.append(video_metadata(r.frames))
            content.append({"type": "text", "text": r.text})
            conversations.append([{"role": "user", "content": content}])
        # left padding, said in the call: a processor's own defaults would otherwise reach the tokenizer
        kwargs: dict[str, Any] = {"padding": True, "padding_side": "left"}
        if metadata:  # the harness sampled these frames: the processor must not sample again
            kwargs.update(video_metadata=metadata, do_sample_frames=False)
        return self.processor.apply_chat_template(conversations, add_generation_prompt=True, tokenize=True,
                                                  return_dict=True, return_tensors="pt", processor_kwargs=kwargs)

    def generate(self, requests: list[Request]) -> list[str]:
        import torch

        gen = {k: v for k, v in requests[0].gen_kwargs.items() if k != "oracle_answer"}
        seed = gen.pop("seed", None)  # not a generate() argument: it seeds sampling
        gen.setdefault("do_sample", False)
        if gen["do_sample"]:
            gen.setdefault("top_k", 0)  # unset: no top-k filter (transformers' own default would be 50)
            if seed is not None:
                torch.manual_seed(int(seed))
        else:  # greedy: sampling settings (a task's temperature=0) mean nothing
            gen.update(temperature=None, top_p=None, top_k=None)
        inputs = self.inputs(requests).to(self.model.device)
        for key in inputs:  # pixels in the weights' dtype; other floats (Qwen's seconds per grid) stay exact
            if key.startswith("pixel_values"):
                inputs[key] = inputs[key].to(self.model.dtype)
        tok = self.processor.tokenizer
        with torch.inference_mode():
            out = self.model.generate(**inputs, **gen, pad_token_id=tok.pad_token_id)
        # decoder-only models return the prompt too; an encoder-decoder one only the new tokens
        new = out if self.model.config.is_encoder_decoder else out[:, inputs["input_ids"].shape[1]:]
        return [t.strip() for t in self.processor.batch_decode(new, skip_special_tokens=True)]


def load_processor(path: Path, frames_as: str) -> Any:
    """AutoProcessor, or, where torchvision is missing and frames go as images, the same processor
    class built from the checkpoint's files with its video processor left out."""
    import transformers
    from transformers.processing_utils import ProcessorMixin

    try:
        processor = transformers.AutoProcessor.from_pretrained(str(path))
    except ImportError as e:
        if "torchvision" not in str(e).lower():
            raise
        if frames_as == "video":
            raise video_refusal(torchvision_problem() or f"loading it failed ({_one_line(e)})") from None
        processor = _processor_without_video(path)
    if not isinstance(processor, ProcessorMixin) or getattr(processor, "tokenizer", None) is None:
        # AutoProcessor falls back to a bare tokenizer or image processor when it finds no processor class
        declared = declared_processor(path)
        why = (f": {declared[0]} names processor_class {declared[1]!r}, which this transformers does not have"
               if declared and _processor_class(declared[1]) is None else "")
        raise ModelLoadError(f"hf path={path}: AutoProcessor gives a {type(processor).__name__}, not a multimodal "
                             f"processor with a tokenizer{why}", hint=newer_transformers_hint() if why else FOLDER_HINT)
    return processor


def newer_transformers_hint() -> str:
    return (f"a transformers that has it (this one: {importlib.metadata.version('transformers')}), or the model's "
            "transformers-native conversion")


def declared_processor(path: Path) -> tuple[str, str] | None:
    """The processor class the checkpoint's files name, and the file that names it."""
    for name in ("processor_config.json", "preprocessor_config.json", "tokenizer_config.json"):
        try:
            found = json.loads((path / name).read_text()).get("processor_class")
        except (OSError, ValueError, AttributeError):
            continue
        if found:
            return name, str(found)
    return None


def _processor_class(name: str) -> Any:
    from transformers.models.auto.processing_auto import processor_class_from_name

    return processor_class_from_name(name)


def _processor_without_video(path: Path) -> Any:
    from transformers import AutoConfig, AutoImageProcessor, AutoTokenizer
    from transformers.models.auto.processing_auto import PROCESSOR_MAPPING
    from transformers.video_processing_utils import VideoProcessorMixin

    class NoVideoProcessor(VideoProcessorMixin):
        """Stands in for a video processor that cannot load (no torchvision): frames_as=images never calls it."""

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            raise ConfigError("this processor's video processor needs torchvision", hint=TORCHVISION_HINT)

    declared = declared_processor(path)
    if declared:
        cls = _processor_class(declared[1])
        if cls is None:
            raise ModelLoadError(f"hf path={path}: {declared[0]} names processor_class {declared[1]!r}, which this "
                                 "transformers does not have", hint=newer_transformers_hint())
    else:
        cls = PROCESSOR_MAPPING[type(AutoConfig.from_pretrained(str(path)))]
    parts = []
    for attr in cls.get_attributes():
        if attr == "video_processor":
            parts.append(NoVideoProcessor())
        elif attr == "tokenizer":
            parts.append(AutoTokenizer.from_pretrained(str(path)))
        elif attr == "image_processor":
            parts.append(AutoImageProcessor.from_pretrained(str(path)))
        else:
            raise ConfigError(f"hf path={path}: the processor ({cls.__name__}) needs a {attr}, which cannot be "
                              "loaded without torchvision", hint=TORCHVISION_HINT)
    class WithoutVideo(cls):  # type: ignore[misc,valid-type]
        """The checkpoint's processor class; its video processor check accepts the stand-in (without
        torchvision, transformers cannot even name the class a video processor must be)."""

        def check_argument_for_proper_class(self, argument_name: str, argument: Any) -> Any:
            if isinstance(argument, NoVideoProcessor):
                return NoVideoProcessor
            return super().check_argument_for_proper_class(argument_name, argument)

    WithoutVideo.__name__ = WithoutVideo.__qualname__ = cls.__name__
    processor_dict, kwargs = WithoutVideo.get_processor_dict(str(path))
    return WithoutVideo.from_args_and_dict(parts, processor_dict, **kwargs)
