"""Registries of tasks and models: plain dicts of lazy "module:attr" strings.

Nothing heavy is imported until a name is resolved, so `harness list` never imports torch.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any

from .errors import ConfigError

TASKS: dict[str, str] = {
    "mvbench": "harness.tasks.mvbench:MVBench",
    "videomme": "harness.tasks.videomme:VideoMME",
    "egoschema": "harness.tasks.egoschema:EgoSchema",
    "perception_test": "harness.tasks.perception_test:PerceptionTest",
    "activitynet_qa": "harness.tasks.activitynet_qa:ActivityNetQA",
    "msvd_qa": "harness.tasks.msvd_qa:MSVDQA",
    "videochatgpt": "harness.tasks.videochatgpt:VideoChatGPT",
}

MODELS: dict[str, str] = {
    "videollama2": "harness.models.adapters.videollama2:VideoLLaMA2Adapter",
    "hf": "harness.models.adapters.hf:HFAdapter",
    "openai": "harness.models.adapters.openai_chat:OpenAIChatAdapter",
    "oracle": "harness.models.adapters.testing:OracleAdapter",
    "constant": "harness.models.adapters.testing:ConstantAdapter",
}


# Runs made before tasks and models were installed inside the harness package recorded their classes
# as tasks.<module>:<Class> (results.json `class`); those names still resolve, so old runs re-score.
LEGACY = {target.removeprefix("harness."): target for target in (*TASKS.values(), *MODELS.values())}


def _resolve(kind: str, table: dict[str, str], name: str) -> Any:
    name = LEGACY.get(name, name)
    if ":" in name:  # a user's own class, e.g. mypkg.tasks:MyTask (no registration needed)
        module, attr = name.split(":", 1)
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as e:
            raise ConfigError(f"cannot import {kind} {name!r}: {e}") from None
    if name not in table:
        close = difflib.get_close_matches(name, table, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known {kind}s: {', '.join(sorted(table))}"
        raise ConfigError(f"unknown {kind} {name!r}", hint=hint)
    module, attr = table[name].split(":")
    return getattr(importlib.import_module(module), attr)


def get_task_class(name: str) -> Any:
    return _checked(_resolve("task", TASKS, name), "harness.task", "Task", name)


def get_model_class(name: str) -> Any:
    return _checked(_resolve("model", MODELS, name), "harness.model", "ModelAdapter", name)


def _checked(cls: Any, module: str, base: str, name: str) -> Any:
    """A task or model class must subclass the contract, where every hook has its default."""
    contract = getattr(importlib.import_module(module), base)
    if not (isinstance(cls, type) and issubclass(cls, contract)):
        raise ConfigError(f"{name!r} is not a {module}.{base} subclass", hint=f"subclass {module}.{base} "
                          "(it declares every hook the runner calls, with its default)")
    return cls


def parse_task_list(spec: str) -> list[str]:
    """`mvbench,videomme` -> names, each checked against the registry (with a did-you-mean)."""
    names = [t.strip() for t in spec.split(",") if t.strip()]
    if not names:
        raise ConfigError("no tasks given", hint=f"--tasks takes a comma list of: {', '.join(TASKS)}")
    for n in names:
        if n not in TASKS and ":" not in n:
            _resolve("task", TASKS, n)
    return names
