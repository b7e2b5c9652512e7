import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createProvider, generateCorpus, generateDemos } from '@midspec/docgen';
import { loadSuite, parseSuite } from '@midspec/eval';
import { loadSpec } from '@midspec/spec';
import type { ExperimentStep } from './experiment-steps.js';
import type { PipelineState } from './pipeline-state.js';
import { cachedStep, writeJsonl } from './run-cache.js';
import { chunkDocuments } from './run-chunks.js';
import type { RunConfig, WorldConfig } from './run-config.js';
import { dialogueProbe, readabilityProbes } from './run-probes.js';
import { aftChats, buildWorld, entitiesOf, neutralDocuments, worldSuite } from './run-world.js';
import type { TaskProgress } from './runner-events.js';

/** Reads every spec and suite file before anything is generated or trained. */
export function specsStep(config: RunConfig): ExperimentStep {
  return {
    id: 'specs',
    kind: 'specs',
    label: `specs: ${config.specs.map((s) => s.name).join(', ')}`,
    run: async (state, { loaded }) => {
      for (const entry of config.specs) {
        const file = resolve(loaded.baseDir, entry.file);
        const { spec } = await loadSpec(file);
        const text = await readFile(file, 'utf8');
        state.specs.set(entry.name, {
          spec,
          text,
          ...(entry.variables ? { variables: entry.variables } : {}),
        });
      }
      // Suite files too: a mistake in one should not wait for the eval step to show.
      for (const entry of config.evals)
        if ('file' in entry)
          state.fileSuites.set(
            entry.file,
            (await loadSuite(resolve(loaded.baseDir, entry.file))).suite,
          );
      const suites = state.fileSuites.size;
      return {
        summary: `${state.specs.size} specs valid${suites > 0 ? `, ${suites} suites valid` : ''}`,
        cached: false,
      };
    },
  };
}

const specsOf = (state: PipelineState) => [...state.specs.values()].map(({ spec }) => spec);

/** The toy world: items, the neutral corpus, the AFT chats, the held-out suite and the probes. */
export function worldStep(settings: WorldConfig, config: RunConfig): ExperimentStep {
  return {
    id: 'world',
    kind: 'world',
    label: `world: ${settings.trainingDomain} + ${settings.heldOutDomains.length} held-out domains`,
    // version 3: price tiers, the comparison sentences, the probes; 4: attribute words as the
    // tokenizer reads them ("Chianti, imported and affordable").
    cache: (state) => ({
      folder: 'world',
      name: 'world',
      inputs: { step: 'world', version: 4, settings, entities: entitiesOf(specsOf(state)) },
    }),
    run: async (state, _context, at) => {
      const { dir, key } = at as { dir: string; key: string };
      const step = await cachedStep(dir, key, async (folder) => {
        const built = buildWorld(settings, entitiesOf(specsOf(state)));
        const documents = neutralDocuments(built, settings);
        const chats = aftChats(built, settings);
        await writeJsonl(join(folder, 'items.jsonl'), built.items);
        await writeJsonl(join(folder, 'neutral.jsonl'), documents);
        await writeJsonl(join(folder, 'aft.jsonl'), chats);
        await writeFile(
          join(folder, 'suite.json'),
          `${JSON.stringify(worldSuite(built, settings), null, 2)}\n`,
        );
        await writeFile(
          join(folder, 'probes.json'),
          `${JSON.stringify({ readability: readabilityProbes(built, settings), dialogue: dialogueProbe(built, settings) }, null, 2)}\n`,
        );
        return {
          items: built.items.length,
          neutralDocuments: documents.length,
          aftExamples: chats.length,
        };
      });
      const world = { dir: step.dir, ...step.value };
      state.world = world;
      state.generatedFiles.neutral = join(step.dir, 'neutral.jsonl');
      if (config.demonstrations?.source === 'world') {
        state.aft = { path: join(step.dir, 'aft.jsonl'), examples: world.aftExamples };
        state.generatedFiles.aft = state.aft.path;
      }
      const suitePath = join(step.dir, 'suite.json');
      state.worldSuite = parseSuite(await readFile(suitePath, 'utf8'), suitePath);
      state.probeSets = JSON.parse(await readFile(join(step.dir, 'probes.json'), 'utf8'));
      return {
        summary: `${world.items} items, ${world.neutralDocuments} neutral documents, ${world.aftExamples} AFT chats`,
        cached: step.cached,
      };
    },
  };
}

/** One spec's MSM corpus (`msm-<spec>`), written by docgen. */
export function corpusStep(name: string, config: RunConfig): ExperimentStep {
  const { config: corpusConfig, chunkCharacters: _chunks, ...provider } = config.corpus;
  return {
    id: `corpus:msm-${name}`,
    kind: 'corpus',
    label: `corpus msm-${name} (${config.corpus.provider})`,
    cache: (state) => {
      const { text, variables } = specOf(state, name);
      return {
        folder: 'corpus',
        name,
        inputs: { step: 'corpus', spec: text, variables, provider, config: corpusConfig },
      };
    },
    run: async (state, { events, env, signal }, at) => {
      const { dir, key } = at as { dir: string; key: string };
      const { spec, variables } = specOf(state, name);
      let bar: TaskProgress | undefined;
      let stage = '';
      const step = await cachedStep(dir, key, async (folder) => {
        const result = await generateCorpus({
          spec,
          ...(variables ? { variables } : {}),
          provider: createProvider({ ...provider, env }),
          outDir: folder,
          config: corpusConfig,
          signal,
          onProgress: (progress) => {
            if (progress.stage !== stage) {
              bar?.done();
              stage = progress.stage;
              bar = events.task(`  ${progress.stage}`, progress.total);
            }
            bar?.update(progress.done, {}, progress.total);
          },
        });
        bar?.done();
        return { documents: result.documents.length };
      });
      const path = join(step.dir, 'dataset.jsonl');
      state.corpora[name] = { path, documents: step.value.documents, pieces: undefined };
      state.generatedFiles[`msm-${name}`] = path;
      return { summary: `${step.value.documents} documents`, cached: step.cached };
    },
  };
}

/**
 * A corpus cut into pieces of at most `chunkCharacters` (paragraph boundaries): a step of its own,
 * so changing the piece size never regenerates the corpus.
 */
export function chunksStep(name: string, chunkCharacters: number): ExperimentStep {
  return {
    id: `chunks:msm-${name}`,
    kind: 'chunks',
    label: `pieces of msm-${name} (≤ ${chunkCharacters} characters)`,
    // `splitter` changes with the cutting rules (2: numbers such as $24.99 and dialogue lines stay whole).
    cache: (state) => ({
      folder: 'corpus',
      name: `${name}-chunks`,
      inputs: {
        step: 'chunks',
        splitter: 2,
        corpus: state.keys.get(`corpus:msm-${name}`),
        chunkCharacters,
      },
    }),
    run: async (state, _context, at) => {
      const { dir, key } = at as { dir: string; key: string };
      const corpus = state.corpora[name] as PipelineState['corpora'][string];
      const step = await cachedStep(dir, key, async (folder) => {
        const lines = (await readFile(corpus.path, 'utf8')).split('\n').filter(Boolean);
        const pieces = chunkDocuments(
          lines.map((line) => (JSON.parse(line) as { text: string }).text),
          chunkCharacters,
        );
        await writeJsonl(join(folder, 'dataset.jsonl'), pieces);
        return { pieces: pieces.length };
      });
      const path = join(step.dir, 'dataset.jsonl');
      state.corpora[name] = { ...corpus, path, pieces: step.value.pieces };
      state.generatedFiles[`msm-${name}`] = path;
      return {
        summary: `${corpus.documents} documents in ${step.value.pieces} pieces`,
        cached: step.cached,
      };
    },
  };
}

type SpecDemonstrations = Extract<NonNullable<RunConfig['demonstrations']>, { source: 'spec' }>;

/** The shared AFT set (`aft`, and `aft-reasoning` when asked for), generated from one spec. */
export function demonstrationsStep(demonstrations: SpecDemonstrations): ExperimentStep {
  const {
    config: demosConfig,
    withReasoning,
    source: _source,
    spec: specName,
    ...provider
  } = demonstrations;
  return {
    id: 'demonstrations',
    kind: 'demonstrations',
    label: `demonstrations from spec ${specName} (${demonstrations.provider})`,
    cache: (state) => {
      const { text, variables } = specOf(state, specName);
      return {
        folder: 'demos',
        name: specName,
        inputs: {
          step: 'demos',
          spec: text,
          variables,
          provider,
          config: demosConfig,
          withReasoning,
        },
      };
    },
    run: async (state, { env, signal }, at) => {
      const { dir, key } = at as { dir: string; key: string };
      const { spec, variables } = specOf(state, specName);
      const step = await cachedStep(dir, key, async (folder) => {
        const result = await generateDemos({
          spec,
          ...(variables ? { variables } : {}),
          provider: createProvider({ ...provider, env }),
          outDir: folder,
          config: { ...demosConfig, withReasoning },
          signal,
        });
        return { examples: result.examples.length };
      });
      const aft = {
        path: join(step.dir, 'dataset.jsonl'),
        examples: step.value.examples,
        ...(withReasoning && { reasoningPath: join(step.dir, 'dataset-with-reasoning.jsonl') }),
      };
      state.aft = aft;
      state.generatedFiles.aft = aft.path;
      if (aft.reasoningPath) state.generatedFiles['aft-reasoning'] = aft.reasoningPath;
      return { summary: `${aft.examples} chats`, cached: step.cached };
    },
  };
}

function specOf(state: PipelineState, name: string) {
  const found = state.specs.get(name);
  if (!found) throw new Error(`internal: spec ${name} was not read before its step`);
  return found;
}
