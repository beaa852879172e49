"""One rank's inference over its shard: decode ahead in threads, generate in batches, append records.

Decoding (decord / PyAV release the GIL) runs in a thread pool a few batches ahead of the model,
so frame reading hides behind generation. Every finished sample is appended to the rank's file
at once: that file is the resume point.
"""

from __future__ import annotations

import contextlib
import sys
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .errors import HarnessError, ModelError
from .model import Generated, GenerationFailed, ModelAdapter
from .records import RecordWriter
from .task import Task
from .types import FramePolicy, Frames, Request, Sample
from .usage import GENERATION_FAILED, combine


@dataclass
class Prepared:
    sample: Sample
    key: str
    frames: Frames | None = None
    error: str | None = None


def base_record(sample: Sample, key: str, policy: FramePolicy) -> dict[str, Any]:
    """The fields every record carries, before any model output. Nothing rank- or time-dependent:
    sample files must be byte-identical at any world size."""
    return {"key": key, "id": sample.id, "task": sample.task, "subset": sample.subset,
            "question": sample.question, "options": sample.options, "target": sample.answer,
            "meta": sample.meta, "frames": {"policy": str(policy), "indices": None, "timestamps": None},
            "media": ({"path": sample.media.path, "kind": sample.media.kind, "start": sample.media.start,
                       "end": sample.media.end, "fps": sample.media.fps} if sample.media else None),
            "prediction": None, "extra_predictions": None, "error": sample.error}


def _prepare(sample: Sample, key: str, policy: FramePolicy) -> Prepared:
    if sample.error:
        return Prepared(sample, key, error=sample.error)
    if sample.media is None:
        return Prepared(sample, key)
    from . import video  # imported here so text-only tasks never load the decoders

    try:
        return Prepared(sample, key, frames=video.read_frames(sample.media, policy))
    except HarnessError as e:
        return Prepared(sample, key, error=str(e))
    except Exception as e:  # noqa: BLE001 - a decoder bug must not kill the run; the sample is logged as an error
        return Prepared(sample, key, error=f"{type(e).__name__}: {e} (file {sample.media.path})")


def _prefetch(items: list[tuple[Sample, str]], policy: FramePolicy, workers: int,
              window: int) -> Iterator[Prepared]:
    """Yield prepared samples in order while up to `window` decodes run ahead."""
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="decode") as pool:
        pending: deque[Future[Prepared]] = deque()
        it = iter(items)
        for sample, key in it:
            pending.append(pool.submit(_prepare, sample, key, policy))
            if len(pending) >= window:
                break
        while pending:
            yield pending.popleft().result()
            nxt = next(it, None)
            if nxt is not None:
                pending.append(pool.submit(_prepare, nxt[0], nxt[1], policy))


def _requests_for(task: Task, prep: Prepared, gen_kwargs: dict[str, Any], oracle: bool) -> list[Request]:
    """The main request plus any extra ones (Video-ChatGPT consistency asks a second question)."""
    sample = prep.sample
    texts = [task.prompt(sample, prep.frames), *task.extra_prompts(sample, prep.frames)]
    kwargs = dict(gen_kwargs)
    if oracle:
        kwargs["oracle_answer"] = sample.answer
    modal = "video" if prep.frames is not None else "text"
    if sample.media is not None and sample.media.kind == "image":
        modal = "image"
    return [Request(sample.id, t, prep.frames, modal, kwargs) for t in texts]


@dataclass
class Outcome:
    """One sample's end: its texts (the main request's, then any extra ones), or why not."""

    texts: list[str] | None = None
    error: str | None = None
    transient: bool = False  # the model's endpoint failed it, not the sample: a rerun computes it again
    usage: dict[str, Any] | None = None  # what its requests cost (harness.usage), when the adapter counts


def _outcome(outputs: list[str | Generated | GenerationFailed]) -> Outcome:
    """A sample's outcome from its requests' outputs: the first failure wins, the cost is every request's."""
    usage = combine(o.usage if isinstance(o, (Generated, GenerationFailed)) else None for o in outputs)
    failed = next((o for o in outputs if isinstance(o, GenerationFailed)), None)
    if failed is not None:
        return Outcome(error=GENERATION_FAILED + failed.reason, transient=failed.transient, usage=usage)
    return Outcome([o.text if isinstance(o, Generated) else o for o in outputs], usage=usage)


def _generate_isolated(model: ModelAdapter, groups: list[list[Request]]) -> list[Outcome]:
    """Generate a batch: one Outcome per sample. A GenerationFailed fails its sample only (the adapter
    answered the rest of the batch: nothing is sent again). If generate raises, retry per sample so
    one bad input does not sink the batch; a ModelError stops the run."""
    flat = [r for g in groups for r in g]
    try:
        outputs = model.generate(flat)
        if len(outputs) != len(flat):
            raise RuntimeError(f"{model.name} returned {len(outputs)} outputs for {len(flat)} requests")
        out: list[Outcome] = []
        i = 0
        for g in groups:
            out.append(_outcome(list(outputs[i:i + len(g)])))
            i += len(g)
        return out
    except ModelError:  # configuration (a refused key, an unknown model): every sample would fail alike
        raise
    except Exception as batch_error:  # noqa: BLE001 - retried per sample; a lone failure becomes that sample's error
        oom = out_of_memory(batch_error)
        if oom:
            _release_cuda_cache()  # what the failed batch held, before its samples are tried alone
        if len(groups) == 1:
            # out of memory even alone: a property of these settings (batch size, attention, frames, the
            # GPU), not of the sample, and batch size and attention are not in the resume key: transient,
            # so a rerun with smaller settings computes it again
            return [Outcome(error=f"{GENERATION_FAILED}{type(batch_error).__name__}: {batch_error}", transient=oom)]
        return [r for g in groups for r in _generate_isolated(model, [g])]


def out_of_memory(error: BaseException) -> bool:
    """Whether generate() failed for want of memory: torch.cuda.OutOfMemoryError (matched by name: the
    core never imports torch), a RuntimeError saying "out of memory" (ROCm, older torch), MemoryError."""
    return (isinstance(error, MemoryError) or type(error).__name__ == "OutOfMemoryError"
            or (isinstance(error, RuntimeError) and "out of memory" in str(error).lower()))


def _release_cuda_cache() -> None:
    torch = sys.modules.get("torch")  # only an adapter that uses torch has imported it
    if torch is not None:
        with contextlib.suppress(Exception):
            torch.cuda.empty_cache()


def run_shard(task: Task, model: ModelAdapter, items: list[tuple[Sample, str]], policy: FramePolicy,
              gen_kwargs: dict[str, Any], out_path: Path, workers: int, progress: bool) -> int:
    """Infer every (sample, key) of this rank's shard, appending records to `out_path`."""
    if not items:
        return 0
    batch_size = max(1, int(model.batch_size))
    oracle = model.needs_oracle
    bar = tqdm(total=len(items), desc=f"{task.name}", unit="sample", disable=not progress, leave=False)
    done = 0
    with RecordWriter(out_path) as writer:
        batch: list[tuple[Prepared, dict[str, Any], list[Request]]] = []

        def flush() -> None:
            nonlocal done
            if not batch:
                return
            results = _generate_isolated(model, [reqs for _, _, reqs in batch])
            for (_, rec, _), res in zip(batch, results):
                if res.texts is None:
                    rec["error"] = res.error
                    if res.transient:  # the endpoint's failure, not the sample's: a rerun computes it again
                        rec["transient"] = True
                else:
                    rec["prediction"] = res.texts[0]
                    rec["extra_predictions"] = res.texts[1:] or None
                if res.usage is not None:
                    rec["usage"] = res.usage
                writer.write(rec)
            done += len(batch)
            bar.update(len(batch))
            batch.clear()

        for prep in _prefetch(items, policy, workers, window=max(2 * batch_size, 2 * workers)):
            rec = base_record(prep.sample, prep.key, policy)
            if prep.frames is not None:
                rec["frames"].update(indices=prep.frames.indices,
                                     timestamps=[round(t, 4) for t in prep.frames.timestamps])
            if prep.error:
                rec["error"] = prep.error
                writer.write(rec)
                done += 1
                bar.update(1)
                continue
            try:
                reqs = _requests_for(task, prep, gen_kwargs, oracle)
            except Exception as e:  # noqa: BLE001 - a prompt that cannot be built is that sample's error
                rec["error"] = f"prompt failed: {type(e).__name__}: {e}"
                writer.write(rec)
                done += 1
                bar.update(1)
                continue
            batch.append((prep, rec, reqs))
            if len(batch) >= batch_size:
                flush()
        flush()
    bar.close()
    return done
