"""A checkpoint's digest is its bytes: a fine-tune with the same file sizes and index as its base must
never be taken for it (its predictions would be reused as the base's)."""

from __future__ import annotations

import hashlib
import os

import pytest

from harness import model
from harness.model import weights_digest


@pytest.fixture
def small_big(monkeypatch, tmp_path):
    monkeypatch.setattr(model, "BIG_FILE", 4096)  # "big" from 4 KiB: the cached path without gigabytes
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    reads = []
    real = hashlib.file_digest

    def counting(fh, name):
        reads.append(fh.name)
        return real(fh, name)

    monkeypatch.setattr(hashlib, "file_digest", counting)
    return reads


def checkpoint(root, weights: bytes, index: str = '{"weight_map": {"w": "model.safetensors"}}'):
    root.mkdir(parents=True)
    (root / "model.safetensors").write_bytes(weights)
    (root / "model.safetensors.index.json").write_text(index)
    (root / "config.json").write_text('{"model_type": "x"}')
    return root


def test_same_sizes_and_index_but_other_weights_is_another_digest(small_big, tmp_path):
    base = checkpoint(tmp_path / "base", bytes(64 << 10))
    tuned = checkpoint(tmp_path / "tuned", bytes(64 << 10)[:-1] + b"\x01")  # one byte differs, at the end
    assert weights_digest(base) != weights_digest(tuned)
    assert weights_digest(checkpoint(tmp_path / "copy", bytes(64 << 10))) == weights_digest(base)  # content, not path


def test_a_big_files_digest_is_read_once_and_any_change_to_the_file_reads_it_again(small_big, tmp_path):
    ckpt = checkpoint(tmp_path / "c", os.urandom(64 << 10))
    first = weights_digest(ckpt)
    assert weights_digest(ckpt) == first and len(small_big) == 1  # the second time from the cache
    weights = ckpt / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[100] ^= 0xFF
    st = weights.stat()
    weights.write_bytes(bytes(data))  # rewritten in place: same size, same inode
    os.utime(weights, ns=(st.st_atime_ns, st.st_mtime_ns + 1))  # a clock coarser than the two writes
    assert weights_digest(ckpt) != first and len(small_big) == 2


def test_an_unwritable_cache_costs_a_reread_not_an_error(small_big, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("HARNESS_CACHE", str(blocker / "cache"))  # under a regular file: cannot be created
    ckpt = checkpoint(tmp_path / "c", os.urandom(64 << 10))
    assert weights_digest(ckpt) == weights_digest(ckpt) and len(small_big) == 2
