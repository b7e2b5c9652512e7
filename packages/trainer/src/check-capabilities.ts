import {
  type GetCapabilitiesResponse,
  LossMask,
  lossMaskToJSON,
  type RunSpec,
  StageKind,
  stageKindToJSON,
} from '@midspec/proto';
import { type Problem, TrainerError } from './trainer-error.js';

/**
 * What a set of runs asks of a worker that it does not offer (LoRA, full fine-tuning, a loss mask,
 * a stage kind, a world size, a sequence length, a dtype, a built-in model). Every problem is listed
 * with the run and stage it comes from.
 */
export function capabilityProblems(
  capabilities: GetCapabilitiesResponse,
  runs: { name: string; spec: RunSpec }[],
): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const add = (path: string, message: string) => {
    // Arms × seeds repeat the same stage: say each distinct problem once per run name prefix.
    const key = `${path.replace(/\/seed-\d+/, '')}|${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    problems.push({ path, message });
  };
  for (const run of runs) {
    const at = `runs[${run.name}]`;
    const { spec } = run;
    if (spec.baseModel.startsWith('tiny:') && !capabilities.builtinModels.includes(spec.baseModel))
      add(
        `${at}.baseModel`,
        `the worker has no built-in model ${spec.baseModel} (it offers ${list(capabilities.builtinModels)})`,
      );
    if (spec.worldSize > Math.max(1, capabilities.maxWorldSize))
      add(
        `${at}.worldSize`,
        `world size ${spec.worldSize} is more than the worker's ${Math.max(1, capabilities.maxWorldSize)}`,
      );
    if (spec.dtype && capabilities.dtypes.length > 0 && !capabilities.dtypes.includes(spec.dtype))
      add(`${at}.dtype`, `dtype ${spec.dtype} is not one of ${list(capabilities.dtypes)}`);
    spec.stages.forEach((stage, index) => {
      const stageAt = `${at}.stages[${index}]`;
      const adapter = stage.adapter?.adapter;
      if (adapter?.$case === 'lora' && !capabilities.supportsLora)
        add(`${stageAt}.adapter`, 'the worker does not support LoRA adapters');
      if (adapter?.$case === 'full' && !capabilities.supportsFullFinetune)
        add(`${stageAt}.adapter`, 'the worker does not support full fine-tuning');
      if (capabilities.stageKinds.length > 0 && !capabilities.stageKinds.includes(stage.kind))
        add(
          `${stageAt}.kind`,
          `the worker does not train ${enumName(stageKindToJSON(stage.kind), 'STAGE_KIND_')} stages`,
        );
      if (
        stage.lossMask !== LossMask.LOSS_MASK_UNSPECIFIED &&
        capabilities.lossMasks.length > 0 &&
        !capabilities.lossMasks.includes(stage.lossMask)
      )
        add(
          `${stageAt}.lossMask`,
          `the worker does not support the loss mask ${enumName(lossMaskToJSON(stage.lossMask), 'LOSS_MASK_')}`,
        );
      const maxLength = stage.packing?.maxLength ?? 0;
      if (capabilities.maxSequenceLength > 0 && maxLength > capabilities.maxSequenceLength)
        add(
          `${stageAt}.packing.maxLength`,
          `${maxLength} tokens is more than the worker's maximum sequence length ${capabilities.maxSequenceLength}`,
        );
      if (stage.kind === StageKind.STAGE_KIND_UNSPECIFIED)
        add(`${stageAt}.kind`, 'the stage kind is not set');
    });
  }
  return problems;
}

/** Throws a TrainerError (before anything is uploaded) when the worker lacks what the runs need. */
export function assertCapabilities(
  capabilities: GetCapabilitiesResponse,
  runs: { name: string; spec: RunSpec }[],
  address: string,
): void {
  const problems = capabilityProblems(capabilities, runs);
  if (problems.length === 0) return;
  throw new TrainerError({
    code: 'trainer/unsupported',
    summary: `the worker at ${address} (${capabilities.workerName || 'unnamed'} ${capabilities.workerVersion}) cannot train this; nothing was uploaded`,
    problems,
  });
}

function enumName(json: string, prefix: string): string {
  return json.replace(prefix, '').toLowerCase();
}

function list(values: string[]): string {
  return values.length > 0 ? values.join(', ') : 'none';
}
