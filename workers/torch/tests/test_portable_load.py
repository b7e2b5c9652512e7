"""A checkpoint the worker writes loads elsewhere: copied to another folder, read by another OS user
with plain transformers and peft (no midspec import, HF_HUB_OFFLINE=1), at the lowest versions the
worker supports, and gives the worker's own log-probabilities.

The lock pins transformers and peft at exactly the lower bounds of pyproject.toml's ranges (the
test checks this), so the environment the other user runs, the worker's own site-packages, is the
lowest supported one. The other user is `nobody`; the checkpoints are copied with their modes, so
only the worker's own 0644/0755 make them readable.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import CHAT, chat_records, jsonl, stage, stored, upload, watch
from packaging.requirements import Requirement
from packaging.version import Version

from midspec_worker import model_policy
from midspec_worker.gen.midspec.worker.v1 import capabilities_pb2 as caps
from midspec_worker.gen.midspec.worker.v1 import common_pb2, inference_pb2, runs_pb2

HERE = Path(__file__).resolve().parent
OTHER_USER = "nobody"
MESSAGES = [
    {"role": "system", "content": "Be honest."},
    {"role": "user", "content": "What is 4 plus one?"},
]
CONTINUATION = "It is 5, because honesty matters."


def lower_bounds() -> dict[str, Version]:
    """The lowest versions pyproject.toml allows for transformers and peft."""
    project = tomllib.loads((HERE.parent / "pyproject.toml").read_text("utf-8"))
    bounds = {}
    for line in project["project"]["dependencies"]:
        requirement = Requirement(line)
        if requirement.name in ("transformers", "peft"):
            lowest = [s.version for s in requirement.specifier if s.operator == ">="]
            assert len(lowest) == 1, f"{line}: expected one >= bound"
            bounds[requirement.name] = Version(lowest[0])
    return bounds


def as_other_user(home: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """Run a command as OTHER_USER in a clean environment: the worker's site-packages only."""
    environment = {
        "HOME": str(home),
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": sysconfig.get_paths()["purelib"],
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
    }
    settings = [f"{key}={value}" for key, value in environment.items()]
    return subprocess.run(
        ["runuser", "-u", OTHER_USER, "--", "env", "-i", *settings, *command],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def elsewhere() -> Iterator[Path]:
    """A world-readable folder outside the worker's data dir (pytest's tmp_path is 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="midspec-elsewhere-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


@pytest.fixture
def other_python(elsewhere: Path) -> str:
    """An interpreter of this Python version that OTHER_USER can run (the worker's venv points at
    one under /root, which only root can enter)."""
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("running as another user needs root and runuser")
    name = f"python{sys.version_info.major}.{sys.version_info.minor}"
    interpreter = shutil.which(name, path="/usr/local/bin:/usr/bin:/bin")
    if interpreter is None:
        pytest.skip(f"no system {name} for {OTHER_USER} to run")
    home = elsewhere / "home"
    home.mkdir()
    shutil.chown(home, OTHER_USER)
    packages = sysconfig.get_paths()["purelib"]
    if as_other_user(home, "test", "-r", f"{packages}/torch/__init__.py").returncode != 0:
        pytest.skip(f"{OTHER_USER} cannot read the worker's site-packages {packages}")
    return interpreter


async def train(stub: Any, base: Path, dataset_id: str) -> str:
    """A LoRA stage on the base, then a full fine-tune: an adapter and full checkpoints."""
    lora = stage(caps.STAGE_KIND_SFT, dataset_id, 2)
    full = stage(caps.STAGE_KIND_SFT, dataset_id, 2)
    full.adapter.full.SetInParent()
    spec = runs_pb2.RunSpec(base_model=str(base), seed=3, stages=[lora, full])
    run_id = (await stub.SubmitRun(runs_pb2.SubmitRunRequest(spec=spec))).run.id
    log = stored(await watch(stub, run_id))
    assert log[-1].state_changed.state == runs_pb2.RUN_STATE_SUCCEEDED, log[-1]
    return run_id


async def worker_scores(stub: Any, run_id: str, checkpoint_id: str) -> list[float]:
    ref = common_pb2.CheckpointRef(run_id=run_id, checkpoint_id=checkpoint_id)
    chat = common_pb2.Chat(messages=[common_pb2.ChatMessage(**m) for m in MESSAGES])
    response = await stub.ScoreLogprobs(
        inference_pb2.ScoreLogprobsRequest(
            model=common_pb2.ModelRef(checkpoint=ref),
            items=[
                inference_pb2.ScoreItem(
                    prompt=common_pb2.Prompt(chat=chat), continuation=CONTINUATION
                )
            ],
            per_token=True,
        )
    )
    return [token.logprob for token in response.results[0].tokens]


async def test_checkpoints_load_elsewhere_as_another_user(
    stub, worker, tmp_path, real_model_dirs, elsewhere, other_python
):
    # The user's own base folder, readable by everyone as a shared model folder would be.
    base = elsewhere / "qwen3-base"
    shutil.copytree(real_model_dirs["qwen3"], base)
    for path in [base, *base.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    model_policy.add_root(elsewhere)
    dataset_id = (await upload(stub, jsonl(chat_records(8)), CHAT)).dataset.id
    run_id = await train(stub, base, dataset_id)

    # Copy every checkpoint, modes included, out of the worker's data dir.
    copies = elsewhere / "copies"
    copies.mkdir(mode=0o755)
    expected: dict[str, list[float]] = {}
    for checkpoint_id in ("stage-0-step-2", "stage-1-step-2", "final"):
        source = tmp_path / "data" / "runs" / run_id / "checkpoints" / checkpoint_id
        shutil.copytree(source, copies / checkpoint_id)
        expected[checkpoint_id] = await worker_scores(stub, run_id, checkpoint_id)
    request = {
        "messages": MESSAGES,
        "continuation": CONTINUATION,
        "merged": {
            "final": str(copies / "final"),
            "stage-1-step-2": str(copies / "stage-1-step-2/model"),
        },
        "adapters": {"stage-0-step-2": str(copies / "stage-0-step-2/adapter")},
    }
    script = elsewhere / "load_elsewhere.py"
    shutil.copyfile(HERE / "load_elsewhere.py", script)
    script.chmod(0o644)
    result = as_other_user(elsewhere / "home", other_python, str(script), json.dumps(request))
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])

    versions = {name: Version(value) for name, value in loaded["versions"].items()}
    assert versions == lower_bounds()
    assert loaded["midspec_importable"] is False
    for name in [*request["merged"], *request["adapters"]]:
        assert loaded[name]["logprobs"] == pytest.approx(expected[name], abs=1e-4), name
    for name in request["adapters"]:
        assert loaded[name]["base"] == str(base)
    # Each stage changed the weights: the checkpoints are not one model under three names.
    assert expected["final"] != pytest.approx(expected["stage-0-step-2"], abs=1e-3)
