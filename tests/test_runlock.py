"""Runs that cannot collide: a run holds a lock on its directory while it trains (repro.runlock);
a second process skips it and says so; a dead owner's lock is taken over."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, needs_data
from repro import runlock


def test_a_held_lock_is_refused_and_released_on_exit(tmp_path):
    lock = runlock.try_lock(tmp_path / "run")
    assert lock is not None
    owner = json.loads((tmp_path / "run" / ".lock").read_text())
    assert owner["pid"] == os.getpid() and owner["host"] == socket.gethostname()
    assert runlock.try_lock(tmp_path / "run") is None  # a second holder, even in this process: refused
    assert f"pid {os.getpid()} on {socket.gethostname()}" in runlock.holder(tmp_path / "run")
    with lock:
        pass
    assert not (tmp_path / "run" / ".lock").exists()
    again = runlock.try_lock(tmp_path / "run")
    assert again is not None
    again.release()


def test_the_lock_of_a_dead_process_is_taken_over(tmp_path):
    code = ("import sys, time; from repro.runlock import try_lock; lock = try_lock(sys.argv[1]); "
            "print('held', flush=True); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "run")], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "held"
        assert runlock.try_lock(tmp_path / "run") is None  # alive: refused
        child.send_signal(signal.SIGKILL)  # no cleanup: the lock file stays, naming the dead pid
        child.wait(timeout=10)
    finally:
        child.kill()
    assert json.loads((tmp_path / "run" / ".lock").read_text())["pid"] == child.pid
    lock = runlock.try_lock(tmp_path / "run")
    assert lock is not None
    assert json.loads((tmp_path / "run" / ".lock").read_text())["pid"] == os.getpid()
    lock.release()


def test_another_hosts_lock_is_honoured_while_its_heartbeat_is_fresh(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    lock_file = run_dir / ".lock"
    lock_file.write_text(json.dumps({"host": "gpu-node-7", "pid": 4242, "started": "earlier"}))
    assert runlock.try_lock(run_dir) is None
    assert "pid 4242 on gpu-node-7" in runlock.holder(run_dir)
    old = time.time() - 2 * runlock.STALE_S
    os.utime(lock_file, (old, old))  # no heartbeat for twice the limit: that machine's run is gone
    lock = runlock.try_lock(run_dir)
    assert lock is not None
    lock.release()


@needs_data
@pytest.mark.slow
def test_two_processes_on_one_smoke_reproduction_train_every_run_exactly_once(tmp_path):
    results = tmp_path / "results"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "repro.cli", "run", "--reproduction", "prefix_vs_infix", "--scale", "smoke",
               "--results-dir", str(results), "--no-progress"]
    procs = [subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    run_dirs = sorted((results / "prefix_vs_infix" / "smoke").iterdir())
    assert len(run_dirs) == 4
    for run_dir in run_dirs:
        events = [json.loads(line) for line in (run_dir / "train_log.jsonl").read_text().splitlines()]
        starts = [e for e in events if e["event"] == "start"]
        steps = [e["step"] for e in events if e["event"] == "train"]
        assert len(starts) == 1, f"{run_dir.name} was trained {len(starts)} times"
        assert steps == list(range(1, starts[0]["total_steps"] + 1))
        assert (run_dir / "metrics.json").is_file() and not (run_dir / ".lock").exists()
    skipped = [line for out in outputs for line in out.splitlines() if "another process is training it" in line]
    assert skipped, outputs  # the two met on at least one run, and the second said so
