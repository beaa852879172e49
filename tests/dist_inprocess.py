"""Run under torchrun: a "training job" that owns its process group and model calls evaluate() twice."""

import json
import sys
from pathlib import Path

import torch.distributed as dist

from harness.config import RunConfig
from harness.runner import evaluate
from tests.toy import HashAdapter

dist.init_process_group("gloo")
model = HashAdapter(batch_size=2)  # loaded once by the job, reused by every evaluation
out = Path(sys.argv[1])
for step in (100, 200):
    cfg = RunConfig(output_dir=out / f"step{step}", task_options={"toy": {"n": 17}}, progress=False)
    res = evaluate(model, ["tests.toy:ToyTask"], cfg)
    if dist.get_rank() == 0:
        (out / f"step{step}.acc").write_text(json.dumps(res["tasks"]["toy"]["metrics"]["accuracy"]))
    else:
        assert res is None
    dist.barrier()  # the job's own sync point; evaluate() itself holds no collective at the end
(out / f"calls.rank{dist.get_rank()}").write_text(str(model.calls))  # a file: torchrun interleaves stdout
dist.destroy_process_group()
