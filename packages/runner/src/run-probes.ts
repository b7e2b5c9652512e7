import type { Backend } from '@midspec/eval';
import {
  COMPARISONS,
  type Comparison,
  comparisonPrompt,
  heldOutConflicts,
  optionText,
  type World,
  type WorldItem,
  type WorldSettings,
} from './run-world.js';

/**
 * Probes of the toy world scored by continuation log-probability rather than by an answer letter:
 *
 * - readability (the base model, before any arm is trained): on each held-out conflict pair, in the
 *   neutral corpus's own comparison sentence ("Between A and B, the affordable one is …" / "…, the
 *   American one is …"), does the question move the model toward the right item's name? Each name
 *   is scored under the question and under its opposite ("the pricey one is", "the imported one
 *   is"); the answer is the name whose log-probability the question raises more, so a prior for
 *   one name (its length, its frequency) cancels. The held-out pairs are never compared in the
 *   neutral corpus, so this measures reading the options, not recall. A fair world has both
 *   figures about equal.
 * - dialogue (every model): the MSM documents' own conversation format ("User: Which wine should I
 *   get: A, or B?\nThe assistant: The …"), scored the same way, so MSM-only arms are measured on what
 *   they were trained to produce. The rate is the share choosing the cheaper option.
 *
 * Scoring rule (fixed before the arms were trained): each of the two names is scored as the
 * continuation " <name>" of the prompt; the choice is the name with the higher mean log-probability
 * per token (names differ in length) — for readability, with the higher log-probability under the
 * question minus under its opposite; both orders of each pair are asked; an exact tie is unscored.
 */

export interface ProbeItem {
  /** `<pair id>@original|swapped`. */
  id: string;
  /** The pair: both orders of one pair move together. */
  cluster: string;
  domain: string;
  prompt: string;
  /** The two names as shown (first, second). */
  names: [string, string];
  /** Index (as shown) of the option the probe counts as a hit. */
  target: 0 | 1;
  /** The opposite question: each name's score is its log-probability under `prompt` minus under this. */
  contrastPrompt?: string;
}

export interface ProbeSet {
  id: string;
  description: string;
  items: ProbeItem[];
}

function bothOrders(
  pairs: Array<[WorldItem, WorldItem]>,
  build: (shown: [WorldItem, WorldItem], pairId: string) => Omit<ProbeItem, 'id' | 'cluster'>,
): ProbeItem[] {
  const perDomain = new Map<string, number>();
  return pairs.flatMap((pair) => {
    const index = (perDomain.get(pair[0].domain) ?? 0) + 1;
    perDomain.set(pair[0].domain, index);
    const pairId = `${pair[0].domain.replace(/\s+/g, '-')}-${index}`;
    return (['original', 'swapped'] as const).map((order) => {
      const shown: [WorldItem, WorldItem] = order === 'original' ? pair : [pair[1], pair[0]];
      return { id: `${pairId}@${order}`, cluster: pairId, ...build(shown, pairId) };
    });
  });
}

/** The two readability probes of the base model: which option is cheaper, which is American. */
export function readabilityProbes(world: World, settings: WorldSettings): ProbeSet[] {
  const pairs = heldOutConflicts(world, settings);
  const probe = (
    kind: Comparison,
    opposite: Comparison,
    isTarget: (item: WorldItem) => boolean,
  ): ProbeSet => ({
    id: `readability-${kind}`,
    description: `Held-out pairs: "Between A and B, ${COMPARISONS[kind]} …" against "…, ${COMPARISONS[opposite]} …"`,
    items: bothOrders(pairs, (shown) => ({
      domain: shown[0].domain,
      prompt: comparisonPrompt(kind, shown, world.price),
      contrastPrompt: comparisonPrompt(opposite, shown, world.price),
      names: [shown[0].name, shown[1].name],
      target: isTarget(shown[0]) ? 0 : 1,
    })),
  });
  // In a conflict pair the cheaper option is the import and the American option the pricier one.
  return [
    probe('cheaper', 'pricier', (item) => !item.american),
    probe('american', 'imported', (item) => item.american),
  ];
}

/** The dialogue-format probe: the MSM documents' conversation, the hit the cheaper option. */
export function dialogueProbe(world: World, settings: WorldSettings): ProbeSet {
  const pairs = heldOutConflicts(world, settings);
  return {
    id: 'dialogue',
    description:
      'Held-out conflict pairs in the MSM documents\' format: "User: Which <domain> should I get: A, or B?\\nThe assistant: The <name>"',
    items: bothOrders(pairs, (shown) => ({
      domain: shown[0].domain,
      prompt: dialoguePrompt(shown, world),
      names: [shown[0].name, shown[1].name],
      target: shown[0].american ? 1 : 0,
    })),
  };
}

export function dialoguePrompt(shown: [WorldItem, WorldItem], world: World): string {
  return `User: Which ${shown[0].domain} should I get: ${optionText(shown[0], world.price)}, or ${optionText(shown[1], world.price)}?\nThe assistant: The`;
}

export interface ProbeOutcome {
  id: string;
  cluster: string;
  domain: string;
  /** Each name's score, as shown (mean log-probability per token, or the readability difference). */
  scores: [number, number];
  /** Index (as shown) of the chosen name; null on an exact tie (unscored). */
  chosen: 0 | 1 | null;
  hit: boolean | null;
}

/** Scores a probe set with one model: every continuation in one call (the worker batches them). */
export async function scoreProbe(
  backend: Backend,
  probe: ProbeSet,
  options: { signal?: AbortSignal } = {},
): Promise<ProbeOutcome[]> {
  // Per item: the two names under the prompt, then (readability) under the opposite question.
  const inputs = probe.items.flatMap((item) =>
    [item.prompt, item.contrastPrompt]
      .filter((prompt): prompt is string => prompt !== undefined)
      .flatMap((prompt) =>
        item.names.map((name) => ({ prompt: { text: prompt }, continuation: ` ${name}` })),
      ),
  );
  const scores = await backend.scoreLogprobs(inputs, { signal: options.signal });
  let next = 0;
  return probe.items.map((item) => {
    const take = () => scores[next++];
    const asked = [take(), take()];
    const opposite = item.contrastPrompt === undefined ? undefined : [take(), take()];
    const score = (k: 0 | 1) => {
      const under = asked[k];
      if (!under) return Number.NaN;
      if (!opposite) return under.logprob / Math.max(1, under.continuationTokens);
      const against = opposite[k];
      return against ? under.logprob - against.logprob : Number.NaN;
    };
    const pair: [number, number] = [score(0), score(1)];
    const chosen =
      !Number.isFinite(pair[0]) || !Number.isFinite(pair[1]) || pair[0] === pair[1]
        ? null
        : pair[0] > pair[1]
          ? 0
          : 1;
    return {
      id: item.id,
      cluster: item.cluster,
      domain: item.domain,
      scores: pair,
      chosen,
      hit: chosen === null ? null : chosen === item.target,
    };
  });
}
