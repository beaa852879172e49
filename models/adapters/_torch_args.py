"""Model args every torch-backed adapter takes (device, dtype, attn), checked one way for all of them:
the same words accepted, the same messages for a mistake, before anything loads."""

from __future__ import annotations

import importlib.util
import re

from harness.errors import ConfigError

# the torch dtype each dtype arg names
TORCH_DTYPE = {"fp32": "float32", "float32": "float32", "bf16": "bfloat16", "bfloat16": "bfloat16",
               "fp16": "float16", "float16": "float16"}
DEVICE = re.compile(r"^(cpu|cuda(:\d+)?|mps|xpu(:\d+)?)$")
ATTN = ("auto", "sdpa", "eager", "flash_attention_2")


def resolve_device(adapter: str, value: object) -> str:
    """The device arg checked, or cuda when torch sees one, else cpu."""
    if value:
        device = str(value)
        if not DEVICE.match(device):
            raise ConfigError(f"{adapter} device={device!r}", hint="use cuda, cuda:N or cpu (also mps, xpu)")
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_dtype(adapter: str, value: object, device: str, gpu_default: str) -> str:
    """The dtype arg as given (checked), else `gpu_default` on a GPU and fp32 elsewhere (a CPU has no
    fast half precision)."""
    dtype = str(value or (gpu_default if device.startswith("cuda") else "fp32"))
    if dtype not in TORCH_DTYPE:
        raise ConfigError(f"{adapter} dtype={dtype!r}", hint="use fp16, bf16 or fp32 (float16, bfloat16, float32)")
    return dtype


def check_attn(adapter: str, value: object) -> str:
    attn = str(value or "auto")
    if attn not in ATTN:
        raise ConfigError(f"{adapter} attn={attn!r}", hint="use " + ", ".join(ATTN))
    return attn


def check_runtime(adapter: str, device: str, attn: str) -> None:
    """What the device and attention implementation need present on this machine."""
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(f"{adapter} device={device}: no CUDA device is visible to torch",
                              hint="use device=cpu, or install the torch build for your CUDA")
    if attn == "flash_attention_2" and importlib.util.find_spec("flash_attn") is None:
        raise ConfigError(f"{adapter} attn=flash_attention_2: flash-attn is not installed",
                          hint='pip install -e ".[gpu]", or use attn=sdpa')
