"""One data, one publication: the same population gives byte-identical files in any process, under any hash seed,
and on a machine too busy to give the solver its time (issue 36, item 1)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

RUNNER = Path(__file__).with_name("build_in_process.py")


def _build(hash_seed: str, *extra: str) -> bytes:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    env.pop("DATABASE_URL", None)
    done = subprocess.run([sys.executable, str(RUNNER), "5", *extra], env=env, capture_output=True, timeout=600,
                          check=True)
    return done.stdout


@pytest.fixture(scope="module")
def builds():
    return {seed: _build(seed) for seed in ("1", "2", "3")}


def test_three_hash_seeds_give_byte_identical_publications(builds):
    out = json.loads(builds["1"])
    assert "2026" in out and "2026-Q3" in out
    hidden = sum(json.dumps(p).count('":"') for p in out.values())
    assert hidden > 0  # there is a pattern to keep: the population has small cells
    digests = {seed: hashlib.sha256(b).hexdigest() for seed, b in builds.items()}
    assert len(set(digests.values())) == 1, digests


def test_a_slowed_solver_gives_the_same_publication(builds):
    assert _build("4", "--slow", "0.02") == builds["1"]
