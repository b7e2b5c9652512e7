"""Launchers: how the worker turns a queued run into a job on an engine and follows it.

The worker stays the control plane (uploads, run records, events and checkpoints in its data
directory); a launcher only starts the training process(es) for one run and reports when they end:
`local` runs them as child processes of the worker, `slurm` submits a batch job, `kubernetes`
applies a Kubeflow PyTorchJob. See docs/scaling-to-a-cluster.md.
"""
