"""A sharded mid-stage checkpoint (torch.distributed.checkpoint, written by Group.save_sharded)
resumes at another world size: written by 2 gloo ranks and read by 1 process, and written by 1
process and read by 2 ranks. The weights and the AdamW state read back equal those written."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from midspec_worker import models
from midspec_worker.train.distributed import Group

CPU = torch.device("cpu")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _full_state(model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> dict:
    """The whole model and optimizer state, gathered (a collective call with several ranks)."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_state_dict

    options = StateDictOptions(full_state_dict=True, cpu_offload=True)
    model_state, optimizer_state = get_state_dict(model, optimizer, options=options)
    # With cpu_offload only rank 0 receives the values; the other ranks get empty dicts.
    return {"model": model_state, "optimizer": optimizer_state.get("state", {})}


def _rank(rank: int, world_size: int, port: int, mode: str, folder: str, out: str) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        WORLD_SIZE=str(world_size),
    )
    torch.set_num_threads(1)
    group = Group()
    group.start(CPU)
    from transformers import AutoModelForCausalLM

    # Reading starts from other weights than writing, so equal results mean the load worked.
    torch.manual_seed(0 if mode == "write" else 1)
    config = models.tiny_config("llama", vocab_size=256, eos_id=1, pad_id=0)
    whole = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model = group.shard(whole, CPU) if group.active else whole
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    if mode == "write":
        generator = torch.Generator().manual_seed(7)
        ids = torch.randint(2, 256, (2, 16), generator=generator)
        for _ in range(2):
            model(input_ids=ids, labels=ids).loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        group.save_sharded(model, optimizer, Path(folder))
    else:
        group.load_sharded(model, optimizer, Path(folder))
    state = _full_state(model, optimizer)
    if group.main:
        torch.save(state, out)
    group.stop()


def _run(world_size: int, mode: str, folder: Path, out: Path) -> dict:
    arguments = (world_size, _free_port(), mode, str(folder), str(out))
    if world_size == 1:
        # One process, no process group: the shape a single-process resume has.
        context = mp.get_context("spawn")
        process = context.Process(target=_rank, args=(0, *arguments))
        process.start()
        process.join(240)
        assert process.exitcode == 0, f"{mode} at world size 1 exited with {process.exitcode}"
    else:
        mp.spawn(_rank, args=arguments, nprocs=world_size, join=True)
    return torch.load(out, weights_only=False)


def _assert_same(written: dict, read: dict) -> None:
    assert written["model"].keys() == read["model"].keys()
    for name, tensor in written["model"].items():
        assert torch.equal(tensor, read["model"][name]), name
    assert written["optimizer"].keys() == read["optimizer"].keys()
    for name, moments in written["optimizer"].items():
        for key in ("step", "exp_avg", "exp_avg_sq"):
            assert torch.equal(
                torch.as_tensor(moments[key]), torch.as_tensor(read["optimizer"][name][key])
            ), (name, key)


@pytest.mark.slow
@pytest.mark.parametrize(("write_at", "read_at"), [(2, 1), (1, 2)])
def test_a_sharded_checkpoint_resumes_at_another_world_size(tmp_path, write_at, read_at):
    folder = tmp_path / "dcp"
    written = _run(write_at, "write", folder, tmp_path / "written.pt")
    assert (folder / ".metadata").is_file()
    read = _run(read_at, "read", folder, tmp_path / "read.pt")
    _assert_same(written, read)
