"""The VideoLLaMA2 training entry: the official recipe on transformers' Trainer.

    python -m harness.models.videollama2.train --model_path CKPT|tiny-random --data_path train.json \\
        --data_folder DIR --output_dir OUT [--tune_mm_mlp_adapter] [--lora_enable] ...
    torchrun --nproc_per_node N -m harness.models.videollama2.train ...      (DDP; --deepspeed scripts/zero2.json on GPUs)

Modes, as official: finetune (default: connector + LLM train, the vision tower stays frozen),
pretrain (`--tune_mm_mlp_adapter`: only the connector trains; saves mm_projector.bin), LoRA
(`--lora_enable`: adapters on the LLM's linear layers + the connector; saves the PEFT adapter
and non_lora_trainables.bin). `--mm_projector_lr` gives the connector its own learning rate.
Every output directory loads with `load_pretrained` (LoRA and projector-only over `base=`).

Our additions: `--model_path tiny-random` starts the tiny configuration from random weights;
`--tune_vision_tower` trains the tower too (the tiny model has no pretrained tower to keep);
`--eval_every N --eval_tasks mvbench,...` runs the harness's `evaluate()` on the model being
trained, sharded over the same ranks; `--skip_bad_samples`; `--shuffle_answers` (a deliberately
broken run, for testing gates); a loss curve (loss.csv, loss.png) next to the checkpoint.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import HfArgumentParser, Trainer, TrainerCallback
from transformers import TrainingArguments as HfTrainingArguments

from .load import official_state_dict, save_checkpoint

TINY = "tiny-random"
# The LLM's projections: where LoRA adapters go (never the tower or the connector, as official).
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@dataclass
class ModelArguments:
    model_path: str = field(metadata={"help": f"a VideoLLaMA2 checkpoint directory, or {TINY!r}"})
    base: str | None = field(default=None, metadata={"help": "base checkpoint when model_path is LoRA/projector-only"})
    vision_tower: str | None = field(default=None, metadata={"help": "vision tower directory (overrides the config's)"})
    pretrain_mm_mlp_adapter: str | None = field(default=None, metadata={"help": "mm_projector.bin to start the connector from"})
    tune_mm_mlp_adapter: bool = field(default=False, metadata={"help": "pretrain mode: only the connector trains"})
    tune_vision_tower: bool = field(default=False, metadata={"help": "also train the vision tower (off in the official recipe)"})
    num_frames: int | None = field(default=None, metadata={"help": "frames per video (default: the config's)"})
    tiny_seed: int = field(default=0, metadata={"help": f"init seed for {TINY}"})
    tiny_config: str = field(default="{}", metadata={"help": f"JSON overrides of the {TINY} config, e.g. layers"})


@dataclass
class DataArguments:
    data_path: str = field(metadata={"help": "JSON list of {id, video|image, conversations}"})
    data_folder: str | None = field(default=None, metadata={"help": "media paths are relative to this (default: data_path's folder)"})
    skip_bad_samples: bool = field(default=False, metadata={"help": "leave out bad records (counted) instead of stopping"})
    shuffle_answers: bool = field(default=False, metadata={"help": "TEST FLAG: permute answers across records (a broken run)"})
    cache_frames: bool = field(default=False, metadata={"help": "keep decoded clips and tokenized conversations in memory across epochs (small sets)"})


@dataclass
class TrainingArguments(HfTrainingArguments):
    model_max_length: int = field(default=2048)
    mm_projector_lr: float | None = field(default=None, metadata={"help": "learning rate of the connector"})
    lora_enable: bool = field(default=False)
    lora_r: int = field(default=64)
    lora_alpha: int = field(default=16)
    lora_dropout: float = field(default=0.05)
    eval_every: int = field(default=0, metadata={"help": "run the harness every N optimizer steps (0: never)"})
    eval_tasks: str = field(default="", metadata={"help": "comma-separated harness tasks for --eval_every"})
    eval_data_root: str | None = field(default=None, metadata={"help": "data root for eval_tasks (default: demo)"})
    remove_unused_columns: bool = field(default=False)  # our batches are lists, not dataset columns


class VideoTrainer(Trainer):
    """The Trainer with the official optimizer split: the connector may have its own learning rate."""

    def create_optimizer(self, model: torch.nn.Module | None = None) -> torch.optim.Optimizer:
        if self.optimizer is not None:
            return self.optimizer
        model = model or self.model
        decay = set(self.get_decay_parameter_names(model))
        proj_lr = self.args.mm_projector_lr
        groups: dict[tuple[bool, bool], list[torch.nn.Parameter]] = {}
        for name, p in model.named_parameters():
            if p.requires_grad:
                groups.setdefault((name in decay, proj_lr is not None and "mm_projector" in name), []).append(p)
        params = [{"params": ps, "weight_decay": self.args.weight_decay if d else 0.0,
                   **({"lr": proj_lr} if is_proj else {})} for (d, is_proj), ps in groups.items()]
        cls, kwargs = self.get_optimizer_cls_and_kwargs(self.args, model)
        self.optimizer = cls(params, **kwargs)
        return self.optimizer

    def floating_point_ops(self, inputs: dict[str, Any]) -> int:
        """6 x tokens x parameters (the Trainer's estimate), counting text tokens of the list batch."""
        tokens = sum(int(t.numel()) for t in inputs["input_ids"])
        return 6 * tokens * self.model.num_parameters(exclude_embeddings=True)


class LossCurve(TrainerCallback):
    """Keeps every logged loss; the main process writes loss.csv and loss.png at the end."""

    def __init__(self) -> None:
        self.points: list[tuple[int, float]] = []

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None, **kw: Any) -> None:
        if logs and "loss" in logs:
            self.points.append((state.global_step, float(logs["loss"])))

    def write(self, out: Path, title: str) -> None:
        (out / "loss.csv").write_text("step,loss\n" + "".join(f"{s},{v:.6f}\n" for s, v in self.points))
        if not self.points:
            return
        import matplotlib

        matplotlib.use("Agg")  # no display: file output only
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
        ax.plot([s for s, _ in self.points], [v for _, v in self.points], lw=1.5)
        ax.set(xlabel="optimizer step", ylabel="training loss (answer tokens)", title=title)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(out / "loss.png")
        plt.close(fig)


class HarnessEval(TrainerCallback):
    """Train-time evaluation: `evaluate()` on the model in memory (no second copy), every N steps,
    on all ranks (each takes its shard), results appended to OUT/train_evals.jsonl by rank 0."""

    def __init__(self, every: int, tasks: list[str], out: Path, tokenizer: Any, data_root: str | None):
        self.every, self.tasks, self.out = every, tasks, out
        self.tokenizer, self.data_root = tokenizer, data_root
        self.history: list[dict[str, Any]] = []

    def run(self, model: torch.nn.Module, step: int) -> dict[str, Any] | None:
        from harness.config import RunConfig
        from harness.models.adapters.videollama2 import VideoLLaMA2Adapter
        from harness.runner import evaluate

        from .api import processor_for

        was_training = model.training
        model.eval()
        # evaluated as the seed evaluates (frames not padded), whatever the training pads
        adapter = VideoLLaMA2Adapter.from_model(model, self.tokenizer, processor_for(_base_model(model)),
                                                tag=f"train-step{step}")
        cfg = RunConfig(output_dir=self.out / "evals" / f"step{step:06d}", data_root=self.data_root, progress=False)
        try:
            res = evaluate(adapter, list(self.tasks), cfg)
        finally:
            model.train(was_training)
        if res is not None:
            row = {"step": step, **{t: _headline(v) for t, v in res["tasks"].items()}}
            self.history.append(row)
            with open(self.out / "train_evals.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
            print(f"[train-eval] step {step}: {row}", flush=True)
        return res

    def on_step_end(self, args: Any, state: Any, control: Any, model: Any = None, **kw: Any) -> None:
        if self.every and state.global_step % self.every == 0:
            self.run(_unwrap(model), state.global_step)


def _headline(task_entry: dict[str, Any]) -> Any:
    m = task_entry.get("metrics") or {}
    return m.get("accuracy", m.get("score"))


def _unwrap(model: Any) -> Any:
    while hasattr(model, "module"):  # DDP / DeepSpeed wrappers
        model = model.module
    return model


def _base_model(model: Any) -> Any:
    """The VideoLLaMA2 model under a PEFT wrapper (LoRA layers stay injected in it)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def build(margs: ModelArguments, targs: TrainingArguments) -> tuple[Any, Any]:
    """(model, tokenizer) with the trainable parts of the chosen mode set to requires_grad."""
    from transformers import AutoTokenizer

    from .load import load_pretrained
    from .tiny import build_tiny_model

    if margs.model_path == TINY:
        model, tokenizer = build_tiny_model(seed=margs.tiny_seed, **json.loads(margs.tiny_config))
    else:
        model = load_pretrained(margs.model_path, base=margs.base, vision_tower=margs.vision_tower)
        tokenizer = AutoTokenizer.from_pretrained(margs.model_path)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.unk_token
    if margs.num_frames:
        model.config.num_frames = margs.num_frames
    if margs.pretrain_mm_mlp_adapter:
        _load_projector(model, Path(margs.pretrain_mm_mlp_adapter))
    model.config.use_cache = False
    inner = model.model
    for p in model.parameters():
        p.requires_grad = not margs.tune_mm_mlp_adapter
    for p in inner.vision_tower.parameters():
        p.requires_grad = margs.tune_vision_tower
    for p in inner.mm_projector.parameters():
        p.requires_grad = True
    if targs.lora_enable:
        from peft import LoraConfig, get_peft_model

        lcfg = LoraConfig(r=targs.lora_r, lora_alpha=targs.lora_alpha, lora_dropout=targs.lora_dropout,
                          target_modules=LORA_TARGETS, exclude_modules=r".*(vision_tower|mm_projector).*",
                          task_type="CAUSAL_LM")
        model = get_peft_model(model, lcfg)
        for name, p in model.named_parameters():  # the connector trains in full beside the adapters
            if "mm_projector" in name:
                p.requires_grad = True
    if targs.gradient_checkpointing:
        _base_model(model).enable_input_require_grads()  # frozen embeddings would cut the checkpointed graph
    return model, tokenizer


def _load_projector(model: Any, path: Path) -> None:
    from .load import _read_any

    sd = _read_any(path.parent, path.name.split(".")[0]) if path.is_file() else _read_any(path, "mm_projector")
    sd = {k.split("mm_projector.", 1)[1]: v for k, v in sd.items() if "mm_projector." in k}
    model.model.mm_projector.load_state_dict(sd, strict=True)


def save(model: Any, tokenizer: Any, out: Path, margs: ModelArguments, targs: TrainingArguments) -> str:
    """Write the mode's checkpoint format; returns which one."""
    out.mkdir(parents=True, exist_ok=True)
    base = _base_model(model)
    if targs.lora_enable:
        model.save_pretrained(out)  # adapter_config.json + adapter_model.safetensors (PEFT's format)
        proj = {f"base_model.model.{k}": v.detach().cpu().clone() for k, v in official_state_dict(base).items()
                if "mm_projector" in k}
        torch.save(proj, out / "non_lora_trainables.bin")
        base.config.save_pretrained(out)
        tokenizer.save_pretrained(out)
        return "lora"
    if margs.tune_mm_mlp_adapter:
        proj = {k: v.detach().cpu().clone() for k, v in official_state_dict(base).items() if "mm_projector" in k}
        torch.save(proj, out / "mm_projector.bin")
        base.config.save_pretrained(out)
        tokenizer.save_pretrained(out)
        return "projector"
    base.config.use_cache = True
    save_checkpoint(base, out, tokenizer)
    return "full"


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    from harness.dist import die_with_launcher

    from .api import processor_for
    from .train_data import ConversationDataset, collate, load_examples

    die_with_launcher()  # under torchrun: a worker dies with its launcher (harness.dist)
    argv = list(sys.argv[1:] if argv is None else argv)
    if not any(a.startswith("--report_to") for a in argv):
        argv += ["--report_to", "none"]  # no experiment trackers unless asked for
    parser = HfArgumentParser((ModelArguments, DataArguments, TrainingArguments), prog=prog)
    margs, dargs, targs = parser.parse_args_into_dataclasses(args=argv)
    out = Path(targs.output_dir)
    examples, problems = load_examples(dargs.data_path, dargs.data_folder, skip_bad=dargs.skip_bad_samples)
    if problems:
        print(f"skipped {len(problems)} bad training records (--skip_bad_samples):", file=sys.stderr)
        for p in problems[:20]:
            print(f"  {p}", file=sys.stderr)
        if len(problems) > 20:
            print(f"  ... and {len(problems) - 20} more", file=sys.stderr)
    model, tokenizer = build(margs, targs)
    base = _base_model(model)
    processor = processor_for(base, aspect=None)  # the config's image_aspect_ratio: pad, as official training
    dataset = ConversationDataset(examples, tokenizer, processor, base.config.model_type, targs.model_max_length,
                                  shuffle_answers_seed=targs.seed if dargs.shuffle_answers else None,
                                  cache_frames=dargs.cache_frames)
    curve = LossCurve()
    callbacks: list[TrainerCallback] = [curve]
    evaluator = None
    if targs.eval_every and targs.eval_tasks:
        evaluator = HarnessEval(targs.eval_every, targs.eval_tasks.split(","), out, tokenizer, targs.eval_data_root)
        callbacks.append(evaluator)
    trainer = VideoTrainer(model=model, args=targs, train_dataset=dataset, data_collator=collate, callbacks=callbacks)
    t0 = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - t0
    if trainer.is_world_process_zero():
        kind = save(model, tokenizer, out, margs, targs)
        curve.write(out, f"{base.config.model_type}: {len(dataset)} records, {trainer.state.global_step} steps")
        n_trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        summary = {"checkpoint": kind, "records": len(dataset), "skipped_records": len(problems),
                   "steps": trainer.state.global_step, "train_seconds": round(seconds, 1),
                   "trainable_params": n_trainable, "final_loss": curve.points[-1][1] if curve.points else math.nan,
                   "shuffled_answers": dargs.shuffle_answers, "world_size": targs.world_size,
                   "evals": evaluator.history if evaluator else []}
        (out / "train_summary.json").write_text(json.dumps(summary, indent=1) + "\n")
        print(f"saved {kind} checkpoint to {out} ({trainer.state.global_step} steps, {seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
