"""The reference training loop as an external command (what the bring-your-own-worker example
runs): reads a run file, trains without the worker's SQLite, prints the JSON-lines protocol."""

from __future__ import annotations

import json
import subprocess
import sys

from helpers import chat_records, text_records


def test_trains_a_run_file_and_reports_in_json_lines(tmp_path):
    text = tmp_path / "text.jsonl"
    text.write_text("".join(json.dumps(r) + "\n" for r in text_records(12)))
    chat = tmp_path / "chat.jsonl"
    chat.write_text("".join(json.dumps(r) + "\n" for r in chat_records(8)))
    stage = {"budget": {"maxSteps": 2}, "microBatchSize": 2, "optimizer": {"learningRate": 0.01}}
    lora = {"adapter": {"lora": {"r": 4}}}
    spec = {
        "baseModel": "tiny:llama",
        "seed": 1,
        "stages": [
            {"kind": "STAGE_KIND_MIDTRAIN", "data": [{"datasetId": "t"}], **stage, **lora},
            {"kind": "STAGE_KIND_SFT", "data": [{"datasetId": "c"}], **stage, **lora},
        ],
    }
    run_file = tmp_path / "run.json"
    datasets = {"t": str(text), "c": str(chat)}
    run_file.write_text(json.dumps({"runId": "r1", "spec": spec, "datasets": datasets}))
    work = tmp_path / "run"
    work.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "midspec_worker.train.standalone", str(run_file)],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    events = [line["event"] for line in lines]
    assert events.count("stage-started") == 2 and events.count("stage-finished") == 2
    metrics = [(line["stage"], line["step"]) for line in lines if line["event"] == "metrics"]
    assert metrics == [(0, 1), (0, 2), (1, 1), (1, 2)]
    started = next(line for line in lines if line["event"] == "stage-started")
    assert started["initialLoss"] > 0 and started["totalSteps"] == 2
    final = lines[-1]
    assert final == {
        "event": "checkpoint-saved",
        "stage": 1,
        "step": 2,
        "path": "checkpoints/final",
        "final": True,
    }
    assert (work / "checkpoints" / "final" / "config.json").is_file()
    assert (work / "checkpoints" / "final" / "adapter").is_dir()
    assert not (tmp_path / "worker.sqlite").exists() and not (work / "worker.sqlite").exists()
