import type { Spec } from './spec-schema.js';

/**
 * The precedence between principles, from three sources: `priority` numbers (1 beats 2), `overrides`
 * lists, and `authority` levels (ordered by `preamble.authorityLevels`, highest first).
 */
export interface PriorityOrder {
  /** True when `higher` takes precedence over `lower`, directly or through others. */
  precedes(higher: string, lower: string): boolean;
  /** A cycle such as `['SP1', 'SP2', 'SP1']`, when the order does not resolve. */
  cycle: string[] | undefined;
}

export function buildPriorityOrder(spec: Spec): PriorityOrder {
  const ids = new Set(spec.principles.map((principle) => principle.id));
  const levels = spec.preamble.authorityLevels;
  const edges = new Map<string, Set<string>>();
  const addEdge = (from: string, to: string) => {
    if (from === to) return;
    let targets = edges.get(from);
    if (!targets) {
      targets = new Set();
      edges.set(from, targets);
    }
    targets.add(to);
  };
  for (const a of spec.principles) {
    for (const target of a.overrides) if (ids.has(target)) addEdge(a.id, target);
    for (const b of spec.principles) {
      if (a.priority !== undefined && b.priority !== undefined && a.priority < b.priority) {
        addEdge(a.id, b.id);
      }
      const levelA = a.authority === undefined ? -1 : levels.indexOf(a.authority);
      const levelB = b.authority === undefined ? -1 : levels.indexOf(b.authority);
      if (levelA >= 0 && levelB >= 0 && levelA < levelB) addEdge(a.id, b.id);
    }
  }

  const reachable = new Map<string, Set<string>>();
  const reach = (start: string): Set<string> => {
    const cached = reachable.get(start);
    if (cached) return cached;
    const seen = new Set<string>();
    const stack = [...(edges.get(start) ?? [])];
    while (stack.length > 0) {
      const next = stack.pop() as string;
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...(edges.get(next) ?? []));
    }
    reachable.set(start, seen);
    return seen;
  };

  return {
    precedes: (higher, lower) => reach(higher).has(lower),
    cycle: findCycle([...ids], edges),
  };
}

function findCycle(nodes: string[], edges: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const trail: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, 'open');
    trail.push(node);
    for (const next of edges.get(node) ?? []) {
      const seen = state.get(next);
      if (seen === 'open') return [...trail.slice(trail.indexOf(next)), next];
      if (seen === undefined) {
        const found = visit(next);
        if (found) return found;
      }
    }
    trail.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of nodes) {
    if (state.has(node)) continue;
    const found = visit(node);
    if (found) return found;
  }
  return undefined;
}
