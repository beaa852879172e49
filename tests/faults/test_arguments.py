"""Arguments refused at parse time (issue 19, item 10): every bad argument is one message and exit 2,
before any model loads; an annotation file that holds no records is an error naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.models.adapters.videollama2 import VideoLLaMA2Adapter

TOY = ["--tasks", "tests.toy:ToyTask", "--task-args", "toy:n=4"]


class ModelLoaded(Exception):
    """Raised by the patched adapter: the run got as far as loading the model."""


@pytest.fixture
def no_model_load(monkeypatch):
    def load(self, **args):
        raise ModelLoaded(args)

    monkeypatch.setattr(VideoLLaMA2Adapter, "__init__", load)


# (extra argv, a word the message must hold)
BAD = {
    "limit-zero": (["--limit", "0"], "--limit"),
    "limit-negative": (["--limit", "-3"], "--limit"),
    "max-error-rate-negative": (["--max-error-rate", "-1"], "--max-error-rate"),
    "max-error-rate-over-one": (["--max-error-rate", "1.5"], "--max-error-rate"),
    "max-unscored-rate-negative": (["--max-unscored-rate", "-0.1"], "--max-unscored-rate"),
    "decode-workers-zero": (["--decode-workers", "0"], "--decode-workers"),
    "dist-timeout-zero": (["--dist-timeout", "0"], "--dist-timeout"),
    "frames-uniform-zero": (["--frames", "uniform:0"], "frame"),
    "frames-fps-zero": (["--frames", "fps:0"], "frame"),
    "frames-min-over-max": (["--frames", "fps:1,min=10,max=2"], "frame"),
    "frames-unknown-key": (["--frames", "fps:1,mni=8"], "frame"),
    "gen-max-new-tokens-negative": (["--gen-kwargs", "max_new_tokens=-1"], "max_new_tokens"),
    "gen-unknown-key": (["--gen-kwargs", "max_tokens=32"], "max_tokens"),
    "gen-temperature-text": (["--gen-kwargs", "temperature=hot"], "temperature"),
    "gen-top-p-over-one": (["--gen-kwargs", "top_p=1.5"], "top_p"),
    "gen-do-sample-not-bool": (["--gen-kwargs", "do_sample=yes"], "do_sample"),
    "model-batch-size-text": (["--model-args", "batch_size=abc"], "batch_size"),
    "model-batch-size-zero": (["--model-args", "batch_size=0"], "batch_size"),
    "model-device-typo": (["--model-args", "device=cdua"], "device"),
    "model-dtype-fp64": (["--model-args", "dtype=fp64"], "dtype"),
    "model-num-frames-zero": (["--model-args", "num_frames=0"], "num_frames"),
    "model-attn-typo": (["--model-args", "attn=flash"], "attn"),
    "model-unknown-arg": (["--model-args", "paht=/ckpt"], "paht"),
    "task-args-unknown-key": (["--task-args", "toy:nn=3"], "nn"),
    "task-args-task-not-run": (["--task-args", "videomme:subtitles=off"], "videomme"),
    "tasks-unknown-name": (["--tasks", "mvbnech"], "mvbnech"),
}


@pytest.mark.parametrize("extra, word", BAD.values(), ids=list(BAD))
def test_item10_a_bad_argument_is_one_message_and_exit_2_before_the_model_loads(tmp_path, capsys, no_model_load,
                                                                                 extra, word):
    argv = ["run", "--model", "videollama2", *TOY, "--output-dir", str(tmp_path / "out"), "--no-progress", *extra]
    assert main(argv) == 2  # a ModelLoaded escaping here means the argument was taken and the model loaded
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("error:") == 1 and "Traceback" not in err, err
    assert word in err, err
    assert not (tmp_path / "out").exists()  # refused before the output directory was touched


def test_item10_good_arguments_reach_the_model_load(tmp_path, no_model_load):
    """The control: the same command with good values gets as far as the model load."""
    argv = ["run", "--model", "videollama2", *TOY, "--output-dir", str(tmp_path / "out"), "--no-progress",
            "--limit", "2", "--frames", "fps:1,min=2,max=4", "--max-error-rate", "0.5",
            "--gen-kwargs", ("max_new_tokens=8,do_sample=true,temperature=0.7,top_p=0.9,top_k=5,num_beams=1,"
                             "repetition_penalty=1.1,seed=3"),
            "--model-args", "batch_size=2,device=cpu,dtype=bf16,num_frames=4,attn=sdpa"]
    with pytest.raises(ModelLoaded):
        main(argv)


@pytest.mark.parametrize("content", ["", "[]", "{}"], ids=["zero-bytes", "empty-list", "empty-object"])
def test_item10_an_annotation_file_with_no_records_is_an_error_naming_it(tmp_path, capsys, content):
    root = tmp_path / "data"
    (root / "perception_test").mkdir(parents=True)
    ann = root / "perception_test" / "mc_question_valid.json"
    ann.write_text(content)
    argv = ["run", "--model", "constant", "--tasks", "perception_test", "--data-root", str(root),
            "--output-dir", str(tmp_path / "out"), "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert str(ann) in err and "Traceback" not in err, err
    assert not (tmp_path / "out").exists()


def test_item10_an_empty_mvbench_task_file_is_an_error_naming_it(tmp_path, capsys):
    root = tmp_path / "data" / "mvbench" / "json"
    root.mkdir(parents=True)
    (root / "action_count.json").write_text(json.dumps([]))
    argv = ["run", "--model", "constant", "--tasks", "mvbench", "--data-root", str(Path(tmp_path / "data")),
            "--output-dir", str(tmp_path / "out"), "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert str(root / "action_count.json") in err and "Traceback" not in err, err
