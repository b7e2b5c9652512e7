import type { Curriculum } from './curriculum.js';
import type { CurriculumInput, DatasetInput, StageInput } from './curriculum-schema.js';
import { parseCurriculum } from './load-curriculum.js';

type StageOptions = Omit<StageInput, 'kind'>;

/**
 * Builds a curriculum in code, e.g.
 * `curriculum('tiny:llama').dataset('docs', {path: 'docs.jsonl'}).midtrain({data: ['docs']}).sft({data: ['chats.jsonl']}).build()`.
 * `build()` validates like a YAML file would and fills in the published recipe.
 */
export class CurriculumBuilder {
  private readonly input: CurriculumInput & { stages: StageInput[] };

  constructor(baseModel: string) {
    this.input = { baseModel, stages: [] };
  }

  name(name: string): this {
    this.input.name = name;
    return this;
  }

  seed(seed: number): this {
    this.input.seed = seed;
    return this;
  }

  dataset(name: string, dataset: DatasetInput): this {
    this.input.datasets = { ...this.input.datasets, [name]: dataset };
    return this;
  }

  midtrain(stage: StageOptions): this {
    this.input.stages.push({ ...stage, kind: 'midtrain' });
    return this;
  }

  sft(stage: StageOptions): this {
    this.input.stages.push({ ...stage, kind: 'sft' });
    return this;
  }

  /** The input as written (for YAML output or further editing). */
  toInput(): CurriculumInput {
    return structuredClone(this.input);
  }

  build(options: { baseDir?: string } = {}): Curriculum {
    return parseCurriculum(this.input, options);
  }
}

export function curriculum(baseModel: string): CurriculumBuilder {
  return new CurriculumBuilder(baseModel);
}
