"""Vision-to-LLM connectors with the official parameter names (`mm_projector.*`).

The STC connector uses timm's RegNet stage (Bottleneck blocks with squeeze-excite, LayerNorm2d
stored under `bn`). timm is not a dependency (it pulls torchvision), so the few pieces are
re-implemented here with the same structure and key names.
"""

from __future__ import annotations

import re

import torch
import torch.nn.functional as F
from torch import nn

from harness.errors import ModelLoadError


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over channels of a (N, C, H, W) map (timm LayerNormAct2d: eps 1e-5, then act)."""

    def __init__(self, channels: int, act: bool = True):
        super().__init__(channels, eps=1e-5)
        self.act = nn.SiLU() if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, H, W)
        x = F.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape, self.weight, self.bias, self.eps)
        return self.act(x.permute(0, 3, 1, 2))


class ConvNorm(nn.Module):
    """conv (no bias) -> `bn` (a LayerNorm2d despite the name) -> optional SiLU."""

    def __init__(self, cin: int, cout: int, k: int = 1, groups: int = 1, act: bool = True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, padding=k // 2, groups=groups, bias=False)
        self.bn = LayerNorm2d(cout, act=act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


class SqueezeExcite(nn.Module):
    def __init__(self, channels: int, reduced: int):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, reduced, 1)
        self.fc2 = nn.Conv2d(reduced, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = F.silu(self.fc1(x.mean((2, 3), keepdim=True)))
        return x * torch.sigmoid(self.fc2(s))


class Bottleneck(nn.Module):
    """RegNet bottleneck: 1x1 -> depthwise 3x3 -> SE (ratio 0.25 of the block input) -> 1x1, residual."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv1 = ConvNorm(cin, cout, 1)
        self.conv2 = ConvNorm(cout, cout, 3, groups=cout)
        self.se = SqueezeExcite(cout, round(cin * 0.25))
        self.conv3 = ConvNorm(cout, cout, 1, act=False)
        self.downsample = ConvNorm(cin, cout, 1, act=False) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv3(self.se(self.conv2(self.conv1(x))))
        return F.silu(y + self.downsample(x))


class RegStage(nn.Module):
    def __init__(self, depth: int, cin: int, cout: int):
        super().__init__()
        for i in range(depth):
            self.add_module(f"b{i + 1}", Bottleneck(cin if i == 0 else cout, cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.children():
            x = block(x)
        return x


def mlp(depth: int, cin: int, cout: int) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Linear(cin, cout)]
    for _ in range(1, depth):
        layers += [nn.GELU(), nn.Linear(cout, cout)]
    return nn.Sequential(*layers)


class STConnector(nn.Module):
    """Spatial-temporal connector: per-frame RegStage -> 3D down-sampler -> per-frame RegStage -> MLP.

    kind "stc": Conv3d(k2, s2, padding 1) -> 8 frames of 24x24 give 5x13x13 = 845 tokens (official, keep);
    "stc_v35": padding 0 -> 4x12x12 = 576; "stp": AvgPool3d(2) -> 576.
    """

    def __init__(self, kind: str, cin: int, hidden: int, depth: int = 4, mlp_depth: int = 2):
        super().__init__()
        self.s1 = RegStage(depth, cin, hidden)
        if kind == "stp":
            self.sampler = nn.Sequential(nn.AvgPool3d(2), nn.SiLU())
        else:
            self.sampler = nn.Sequential(nn.Conv3d(hidden, hidden, 2, stride=2, padding=1 if kind == "stc" else 0),
                                         nn.SiLU())
        self.s2 = RegStage(depth, hidden, hidden)
        self.readout = mlp(mlp_depth, hidden, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, N, D) with N = h*w
        b, t, n, d = x.shape
        hw = int(n ** 0.5)
        x = x.reshape(b * t, hw, hw, d).permute(0, 3, 1, 2)  # (B*T, D, h, w)
        x = self.s1(x)
        x = x.reshape(b, t, *x.shape[1:]).permute(0, 2, 1, 3, 4)  # (B, H, T, h, w)
        x = self.sampler(x)  # (B, H, T', h', w')
        t2 = x.shape[2]
        x = x.permute(0, 2, 1, 3, 4).reshape(b * t2, *x.shape[1:2], *x.shape[3:])  # (B*T', H, h', w')
        x = self.s2(x)
        x = x.reshape(b, t2, *x.shape[1:]).permute(0, 1, 3, 4, 2).reshape(b, -1, x.shape[1])  # (B, T'h'w', H)
        return self.readout(x)


class FrameMeanMLP(nn.Sequential):
    """`linear` / `mlpNx_gelu`: average frame features over time, then the MLP. A Sequential, so
    the keys are the official `mm_projector.0`, `mm_projector.2`, ..."""

    def __init__(self, depth: int, cin: int, hidden: int):
        super().__init__(*mlp(depth, cin, hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, N, D) -> (B, N, H)
        return super().forward(x.mean(dim=1))


PROJECTORS = ("linear", "mlpNx_gelu", "stc_connector", "stp_connector", "stc_connector_v35")


def build_projector(kind: str, mm_hidden: int, hidden: int) -> nn.Module:
    if kind == "linear":
        return FrameMeanMLP(1, mm_hidden, hidden)
    if m := re.fullmatch(r"mlp(\d+)x_gelu", kind):
        return FrameMeanMLP(int(m.group(1)), mm_hidden, hidden)
    table = {"stc_connector": "stc", "stp_connector": "stp", "stc_connector_v35": "stc_v35"}
    if kind in table:
        return STConnector(table[kind], mm_hidden, hidden)
    raise ModelLoadError(f"unknown mm_projector_type {kind!r}", hint=f"supported: {', '.join(PROJECTORS)}")
