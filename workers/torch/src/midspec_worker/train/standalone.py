"""The reference training loop as a command of its own, without the worker's SQLite: what the
bring-your-own-worker example (examples/bring-your-own-worker) hands each run to.

    python -m midspec_worker.train.standalone [RUN_FILE]     (default: $MIDSPEC_RUN_FILE)

RUN_FILE is `{"runId", "spec": <RunSpec as proto3 JSON>, "datasets": {"<id>": "<path.jsonl>"}}`;
the command trains every stage with the worker's own loop (train/engine.py), writes checkpoints
under its working directory (checkpoints/stage-N-step-K, checkpoints/final), and reports progress as
JSON lines on stdout (stage-started, metrics, checkpoint-saved, stage-finished, log, error), the
protocol the example documents. SIGTERM stops it at the next step boundary.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from midspec_worker.errors import MidspecError
from midspec_worker.gen.midspec.worker.v1 import capabilities_pb2 as caps
from midspec_worker.gen.midspec.worker.v1 import datasets_pb2, runs_pb2
from midspec_worker.train.engine import Stopped


def _print(line: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


_last_step = {"step": 0}  # of the last metrics line, for the final checkpoint's line


def _event(event: runs_pb2.RunEvent) -> None:
    kind = event.WhichOneof("event")
    if kind == "stage_started":
        s = event.stage_started
        _print(
            {
                "event": "stage-started",
                "stage": s.stage_index,
                "name": s.name,
                "totalSteps": s.total_steps,
                "numTokens": s.num_tokens,
                "initialLoss": s.initial_loss,
            }
        )
    elif kind == "metrics":
        m = event.metrics
        _last_step["step"] = m.step
        _print(
            {
                "event": "metrics",
                "stage": m.stage_index,
                "step": m.step,
                "totalSteps": m.total_steps,
                "loss": m.loss,
                "learningRate": m.learning_rate,
            }
        )
    elif kind == "stage_finished":
        f = event.stage_finished
        _print({"event": "stage-finished", "stage": f.stage_index, "finalLoss": f.final_loss})
    elif kind == "log":
        _print({"event": "log", "level": event.log.level, "message": event.log.message})


def train(run_file: Path, work_dir: Path, stop: threading.Event) -> None:
    import torch

    from midspec_worker import models, runspec
    from midspec_worker.train import checkpoints, data, engine

    run = json.loads(run_file.read_text())
    spec = json_format.ParseDict(run["spec"], runs_pb2.RunSpec(), ignore_unknown_fields=True)
    paths = {key: Path(value) for key, value in run["datasets"].items()}
    # Midtraining stages take text datasets, SFT stages chat datasets (the contract's rule).
    formats = {}
    for stage in spec.stages:
        for source in stage.data:
            formats[source.dataset_id] = (
                datasets_pb2.DATASET_FORMAT_CHAT
                if stage.kind == caps.STAGE_KIND_SFT
                else datasets_pb2.DATASET_FORMAT_TEXT
            )
    plan = runspec.validate(spec, formats)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = getattr(torch, plan.dtype or ("bfloat16" if device.type == "cuda" else "float32"))
    torch.manual_seed(plan.seed)
    base = models.materialize(plan.base_model, work_dir / "models", plan.seed)
    model, tokenizer = models.load(base, dtype)
    model.to(device)
    folder = work_dir / "checkpoints"

    def checkpoint(current: Any, stage: runspec.StagePlan, step: int, state: dict) -> None:
        target = folder / f"stage-{stage.index}-step-{step}"
        checkpoints.save_stage(target, current, tokenizer, state)
        path = str(target.relative_to(work_dir))
        _print({"event": "checkpoint-saved", "stage": stage.index, "step": step, "path": path})

    ctx = engine.StageContext(
        emit=_event,
        should_stop=stop.is_set,
        checkpoint=checkpoint,
        checkpoint_every_steps=plan.checkpoint_every_steps,
        device=device,
        dtype=dtype,
        seed=plan.seed,
    )
    for stage in plan.stages:
        sources = []
        for dataset_id, weight in stage.sources:
            examples = data.load_examples(
                paths[dataset_id],
                formats[dataset_id],
                tokenizer,
                stage.max_length,
                stage.assistant_only,
                stage.strip_reasoning,
            )
            sources.append((examples, weight))
        examples = data.mix(sources, plan.seed + stage.index)
        model = engine.train_stage(model, tokenizer, stage, examples, ctx)
    checkpoints.save_final(folder / "final", model, tokenizer)
    last = plan.stages[-1].index
    final = {"event": "checkpoint-saved", "stage": last, "step": _last_step["step"]}
    final["path"] = "checkpoints/final"
    _print({**final, "final": True})


def main(argv: list[str]) -> int:
    run_file = Path(argv[0] if argv else os.environ.get("MIDSPEC_RUN_FILE", "run.json"))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        train(run_file, Path.cwd(), stop)
    except MidspecError as error:
        _print(
            {
                "event": "error",
                "reason": error.reason,
                "message": error.message,
                "retryable": error.retryable,
            }
        )
        return 1
    except Stopped:  # SIGTERM: stopped at a step boundary, as asked
        return 143
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
