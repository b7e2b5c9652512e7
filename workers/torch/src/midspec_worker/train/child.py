"""The training child process: runs every stage of one run and reports through the event log.

Started with multiprocessing's spawn context (never fork: the parent holds gRPC threads). It owns
the run's RUNNING -> SUCCEEDED / FAILED / CANCELLED transition; on a worker shutdown it stops at a
step boundary and leaves the run RUNNING, so a restarted worker resumes it. A run that has stage
checkpoints continues from the newest: finished stages are restored from their last checkpoint,
the interrupted one from its weights, optimizer, scheduler, RNG and data position.

Fencing: the worker starts it with its own pid and a lease generation for the run. Before anything
heavy is imported the child makes sure the worker is still its parent and arranges to die with it;
every write to the event log, the job table and the checkpoint folders checks the lease, so a
process the worker no longer owns (an orphan of a killed worker) writes nothing and exits.
"""

from __future__ import annotations

# Only the standard library at the top: the parent check in `entry` must run before torch (seconds
# to import) so that a worker killed during start-up never leaves a child behind.
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from midspec_worker.store import Store
    from midspec_worker.train.observe import Board

log = logging.getLogger("midspec.train")
# Exit code of a child that found its parent gone or its lease taken over.
EXIT_FENCED = 3
# The log event that reports the run's effective spec (JSON after the prefix), and its file.
EFFECTIVE_SPEC_PREFIX = "effective run spec: "
EFFECTIVE_SPEC_FILE = "effective-spec.json"


def entry(data_dir: str, run_id: str, lease: int = 0, parent_pid: int = 0) -> None:
    """Process target: set up the process, train, then exit at once.

    `parent_pid` is the worker that started it (0: whoever the parent is now, as under torchrun);
    `lease` the run's lease generation it was given (0: unfenced, for tests that call it directly).
    Everything that matters is already in SQLite and on disk, and interpreter teardown with torch
    loaded takes seconds, which would hold up the next run in the queue and worker shutdown.
    """
    _exit_with_parent(parent_pid or os.getppid())
    from midspec_worker import logs
    from midspec_worker.store import LeaseLost

    logs.configure()
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    # Ctrl-C reaches the whole process group; the parent decides when the child stops. SIGTERM
    # (from the worker, or forwarded by a launcher) means: stop at the next step boundary.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    shutdown = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: shutdown.set())
    try:
        world_size = _world_size(data_dir, run_id)
        if "RANK" not in os.environ and world_size > 1:
            code = _launch(data_dir, run_id, lease, world_size, shutdown)
        else:
            failed = not main(data_dir, run_id, shutdown, lease)
            # Under torchrun a failed rank must exit non-zero, so torchrun stops the ranks waiting
            # in a collective for it.
            code = 1 if failed and "RANK" in os.environ else 0
    except LeaseLost as lost:
        log.warning("lease lost; exiting without writing", extra={"run_id": run_id})
        log.debug(str(lost))
        code = EXIT_FENCED
    logging.shutdown()
    os._exit(code)


def _world_size(data_dir: str, run_id: str) -> int:
    from midspec_worker.store import Store

    store = Store(Path(data_dir) / "worker.sqlite")
    try:
        run = store.get_run(run_id)
        return run.spec.world_size if run is not None else 1
    finally:
        store.close()


def _launch(
    data_dir: str, run_id: str, lease: int, world_size: int, shutdown: threading.Event
) -> int:
    """Run the ranks under torchrun; forward a shutdown to it (it forwards SIGTERM to the ranks)."""
    from midspec_worker.launch.local import child_command

    # Standalone, or node 0 of a multi-node run (the worker's --nnodes/--rdzv-endpoint).
    command = child_command(Path(data_dir), run_id, world_size, lease)
    # torchrun dies with this process (and its ranks with torchrun), never training on alone.
    launcher = subprocess.Popen(command, preexec_fn=_die_with_parent)
    while launcher.poll() is None:
        if shutdown.wait(0.5):
            launcher.terminate()
            break
    return launcher.wait()


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def main(data_dir: str, run_id: str, shutdown: threading.Event, lease: int = 0) -> bool:
    """Train one run and record its final state; `shutdown` set means stop, leaving it RUNNING.

    Under torchrun only rank 0 records anything; the other ranks train and follow its decisions.
    Returns False when the run failed; raises LeaseLost when the run was taken over.
    """
    from midspec_worker.errors import MidspecError
    from midspec_worker.gen.midspec.worker.v1 import runs_pb2
    from midspec_worker.store import Store
    from midspec_worker.train.engine import Stopped
    from midspec_worker.train.observe import Board

    running = frozenset({runs_pb2.RUN_STATE_RUNNING})
    store = Store(Path(data_dir) / "worker.sqlite", lease=(run_id, lease) if lease else None)
    if os.environ.get("RANK", "0") != "0":
        try:
            _train(Path(data_dir), run_id, store, shutdown.is_set)
        except Stopped:
            pass
        finally:
            store.close()
        return True
    # Closed however training ends (success, failure, cancel, shutdown): the writer buffers
    # events, and the process ends with os._exit, which would drop them.
    board = None
    try:
        board = Board(Path(data_dir) / "runs" / run_id / "tensorboard")
        _train(
            Path(data_dir),
            run_id,
            store,
            lambda: shutdown.is_set() or store.cancel_requested(run_id),
            board,
        )
    except Stopped:
        if not store.cancel_requested(run_id):
            log.info("stopped for worker shutdown", extra={"run_id": run_id})
            return True
        store.set_state(
            run_id, runs_pb2.RUN_STATE_CANCELLED, "cancelled at a step boundary", only_from=running
        )
    except MidspecError as error:
        store.set_state(
            run_id,
            runs_pb2.RUN_STATE_FAILED,
            error.message,
            only_from=running,
            error=runs_pb2.RunError(
                reason=error.reason, message=error.message, retryable=error.retryable
            ),
        )
        return False
    except Exception as error:
        from midspec_worker.train.distributed import lost_peer

        if lost_peer(error):
            # Another rank (on another node) died: no fault of the run's. No final state, so the
            # worker resumes it from its last checkpoint like a training process that died.
            log.warning("a rank of the process group died", extra={"run_id": run_id})
            return False
        log.exception("training failed", extra={"run_id": run_id})
        message = f"training failed: {type(error).__name__}: {error}"
        store.set_state(
            run_id,
            runs_pb2.RUN_STATE_FAILED,
            message,
            only_from=running,
            error=runs_pb2.RunError(reason="ERROR_REASON_INTERNAL", message=message),
        )
        return False
    else:
        store.set_state(
            run_id, runs_pb2.RUN_STATE_SUCCEEDED, "all stages finished", only_from=running
        )
    finally:
        if board is not None:
            board.close()
        store.close()
    return True


def _exit_with_parent(parent: int) -> None:
    """A child outlives a killed parent; it must not train on beside the restarted worker's
    resumed child. On Linux the kernel kills it with the parent; a thread polls as well (other
    systems, and a parent that died before the request took effect). A parent already gone (the
    worker was killed while this process was starting) means exit now."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(EXIT_FENCED)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(EXIT_FENCED)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


# Test hooks, off unless the variable is set (never in production): make the training process die
# right after a given step (of any stage) has been reported, to exercise the crash-loop guard (kill)
# and the failure path (fail).
TEST_KILL_AFTER_STEP = "MIDSPEC_TEST_KILL_AFTER_STEP"
TEST_FAIL_AFTER_STEP = "MIDSPEC_TEST_FAIL_AFTER_STEP"


def _test_hooks(step: int) -> None:
    if os.environ.get(TEST_KILL_AFTER_STEP) == str(step):
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get(TEST_FAIL_AFTER_STEP) == str(step):
        raise RuntimeError(f"{TEST_FAIL_AFTER_STEP}={step}")


def _write_text(path: Path, text: str) -> None:
    # Whole or not at all: a reader never sees half a file, even if the process dies mid-write.
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    staging.write_text(text)
    os.replace(staging, path)


def _train(
    data_dir: Path, run_id: str, store: Store, should_stop: Any, board: Board | None = None
) -> None:
    """Train every stage; `board` (rank 0's TensorBoard writer) is the caller's to close."""
    import torch
    import transformers
    from google.protobuf import json_format

    from midspec_worker import models, runspec
    from midspec_worker.gen.midspec.worker.v1 import capabilities_pb2 as caps
    from midspec_worker.gen.midspec.worker.v1 import runs_pb2
    from midspec_worker.train import (
        checkpoints,
        data,
        distributed,
        engine,
        observe,
        portable,
        precision,
    )

    transformers.utils.logging.disable_progress_bar()
    # Library messages join our JSON log lines instead of printing their own format.
    transformers.utils.logging.disable_default_handler()
    transformers.utils.logging.enable_propagation()
    run = store.get_run(run_id)
    assert run is not None
    formats = {}
    for stage in run.spec.stages:
        for source in stage.data:
            dataset = store.get_dataset(source.dataset_id)
            if dataset is not None:
                formats[dataset.id] = dataset.format
    plan = runspec.validate(run.spec, formats)
    threads = os.environ.get("MIDSPEC_TORCH_THREADS")
    if threads:
        # On shared or small machines fewer intra-op threads avoid oversubscription stalls.
        torch.set_num_threads(int(threads))
    group = distributed.Group()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device(f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu")
    # Before the process group exists: under torch.distributed transformers' save_pretrained
    # writes the weights on rank 0 only, so another rank could rename an incomplete tiny model
    # into place. Every rank builds it whole; the first rename wins.
    base = models.materialize(plan.base_model, data_dir / "models", plan.seed)
    group.start(device)
    dtype = precision.compute_dtype(plan.dtype, device)
    weights_dtype = precision.load_dtype(dtype, any(stage.lora is None for stage in plan.stages))
    torch.manual_seed(plan.seed)

    stage_names = {stage.index: stage.name for stage in plan.stages}

    def emit(event: runs_pb2.RunEvent) -> None:
        if not group.main:
            return
        store.append_event(run_id, event)
        if board is not None and event.HasField("metrics"):
            board.metrics(stage_names[event.metrics.stage_index], event.metrics)
        if event.HasField("metrics"):
            _test_hooks(event.metrics.step)

    def note(message: str) -> None:
        emit(runs_pb2.RunEvent(log=runs_pb2.LogLine(level="info", message=message)))

    if group.main:
        # What this run trains with, defaults applied: in the run's events, the worker's log and
        # DIR/runs/<run_id>/effective-spec.json.
        effective = json_format.MessageToDict(plan.effective)
        note(EFFECTIVE_SPEC_PREFIX + json.dumps(effective, sort_keys=True))
        log.info("effective run spec", extra={"run_id": run_id, "effective_spec": effective})
        _write_text(
            data_dir / "runs" / run_id / EFFECTIVE_SPEC_FILE,
            json.dumps(effective, indent=2, sort_keys=True) + "\n",
        )

    if group.active:
        # Rank 0 holds the weights on the CPU, the other ranks a meta-device skeleton; each stage
        # shards them onto the device (distributed.Group.shard).
        load = models.load if group.main else distributed.load_skeleton
        model, tokenizer = load(base, weights_dtype)
    else:
        model, tokenizer = models.load(base, weights_dtype, device)
        model.to(device)
    note(f"loaded {plan.base_model} from {base} on {device}: weights {weights_dtype}, math {dtype}")
    run_dir = data_dir / "runs" / run_id / "checkpoints"

    def checkpoint(
        current: Any, stage: runspec.StagePlan, step: int, state: dict[str, Any]
    ) -> None:
        checkpoint_id = f"stage-{stage.index}-step-{step}"
        target = run_dir / checkpoint_id
        state = {**state, "stage_index": stage.index, "step": step}
        saved = checkpoints.save_stage(target, current, tokenizer, state, store.fenced)
        trained = [portable_stage(s) for s in plan.stages[: stage.index + 1]]
        portable.finish(target, plan.base_model, trained, step)
        store.add_checkpoint(
            checkpoints.record(run_id, checkpoint_id, stage.index, step, False, saved, target),
            target,
        )
        if board is not None:
            board.flush()  # a process killed later still leaves the curve up to here

    ctx = engine.StageContext(
        emit=emit,
        should_stop=should_stop,
        checkpoint=checkpoint,
        checkpoint_every_steps=plan.checkpoint_every_steps,
        device=device,
        dtype=dtype,
        seed=plan.seed,
        group=group,
        peak_flops=observe.peak_flops(device, dtype),
        scratch_dir=run_dir,
    )
    run_dir.mkdir(parents=True, exist_ok=True)
    saved = store.list_checkpoints(run_id)
    if any(c.final for c in saved):
        # The previous process wrote the final checkpoint and died before recording success.
        return
    # The newest resumable checkpoint of each stage; the run continues from the newest of all.
    # (Earlier versions marked multi-process mid-stage checkpoints, which lacked the optimizer
    # state, not resumable.)
    latest = {}
    for record in reversed(saved):
        folder = run_dir / record.id
        if record.stage_index in latest or not (folder / "trainer_state.pt").is_file():
            continue
        if checkpoints.load_state(folder).get("resumable", True):
            latest[record.stage_index] = record
    resume_from = latest[max(latest)] if latest else None
    if resume_from is not None:
        note(f"resuming from checkpoint {resume_from.id}")
    for stage in plan.stages:
        if should_stop():
            raise engine.Stopped()
        resume = None
        if resume_from is not None and stage.index <= resume_from.stage_index:
            folder = run_dir / latest[stage.index].id
            state = checkpoints.load_state(folder)
            if state.get("finished", False):
                model = engine.restore_stage(model, stage, folder, plan.seed)
                continue
            resume = engine.Resume(folder=folder, state=state)
        sources = []
        for dataset_id, weight in stage.sources:
            fmt = formats[dataset_id]
            path = data_dir / "datasets" / f"{dataset_id}.jsonl"
            examples = data.load_examples(
                path, fmt, tokenizer, stage.max_length, stage.assistant_only, stage.strip_reasoning
            )
            sources.append((examples, weight))
        examples = data.mix(sources, plan.seed + stage.index)
        kind = "text" if stage.kind == caps.STAGE_KIND_MIDTRAIN else "chat"
        note(f"stage {stage.index} ({stage.name}): {len(examples)} {kind} examples")
        model = engine.train_stage(model, tokenizer, stage, examples, ctx, resume)
    group.stop()
    if not group.main:
        return
    target = run_dir / "final"
    model, formats_saved = checkpoints.save_final(target, model, tokenizer, store.fenced)
    portable.finish(target, plan.base_model, [portable_stage(stage) for stage in plan.stages])
    last = plan.stages[-1]
    current = store.get_run(run_id)
    step = current.step if current is not None else 0
    store.add_checkpoint(
        checkpoints.record(run_id, "final", last.index, step, True, formats_saved, target), target
    )


def portable_stage(stage: Any) -> dict[str, Any]:
    """A stage's recipe for the model card: its resolved settings that are plain values."""
    fields = getattr(stage, "__dataclass_fields__", {})
    values = {name: getattr(stage, name) for name in fields}
    return {
        name: value
        for name, value in values.items()
        if isinstance(value, (str, int, float, bool)) or value is None
    } | {"lora": bool(getattr(stage, "lora", None))}


if __name__ == "__main__":
    # `python -m midspec_worker.train.child DATA_DIR RUN_ID [LEASE [PARENT_PID]]`: the worker's
    # training process, or (without PARENT_PID) a torchrun rank.
    arguments = sys.argv[1:]
    entry(
        arguments[0],
        arguments[1],
        int(arguments[2]) if len(arguments) > 2 else 0,
        int(arguments[3]) if len(arguments) > 3 else 0,
    )
