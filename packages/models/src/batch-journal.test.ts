import { describe, expect, it } from 'vitest';
import type { BatchClient, BatchIntent, BatchItem } from './batch-client.js';
import {
  type BatchJournalEntry,
  ensureSubmitted,
  journalIntents,
  openBatches,
} from './batch-journal.js';
import { ModelError } from './model-error.js';

/** An in-memory batch API whose first create succeeds at the provider but loses its answer. */
function lossyProvider() {
  const created: { id: string; intent: string; items: BatchItem[] }[] = [];
  let lose = true;
  const client: BatchClient = {
    provider: 'memory',
    model: 'm',
    limits: { maxRequests: 2, maxBytes: 1e9 },
    customId: (intent: BatchIntent, index: number) => `${intent.id.slice(0, 8)}-${index}`,
    itemBytes: () => 1,
    async submit(items, intent) {
      created.push({ id: `b${created.length + 1}`, intent: intent.id, items });
      if (lose) {
        lose = false;
        throw new ModelError({ provider: 'memory', message: 'socket hang up', retryable: true });
      }
      return `b${created.length}`;
    },
    async find(intent) {
      return created.find((batch) => batch.intent === intent.id)?.id;
    },
    async status() {
      return { done: true, completed: 0, total: 0, state: 'ended' };
    },
    async results() {
      return new Map();
    },
  };
  return { client, created };
}

function memoryJournal() {
  const entries: BatchJournalEntry[] = [];
  return {
    entries,
    all: () => entries,
    append: (entry: BatchJournalEntry) => void entries.push(entry),
  };
}

describe('journalled batch submission', () => {
  it('journals one intent per part before sending, and finds a batch whose answer was lost', async () => {
    const { client, created } = lossyProvider();
    const journal = memoryJournal();
    const items = ['a', 'b', 'c'].map((key) => ({
      key,
      request: {
        messages: [{ role: 'user' as const, content: key }],
        temperature: 0,
        maxTokens: 1,
      },
    }));
    const open = journalIntents(client, journal, 0, items);
    expect(open.map((batch) => Object.values(batch.map))).toEqual([['a', 'b'], ['c']]);
    expect(journal.entries.map((entry) => entry.event)).toEqual(['intent', 'intent']);
    const rebuild = (key: string) => items.find((item) => item.key === key)?.request as never;
    const first = await ensureSubmitted(client, journal, open[0] as never, rebuild, {
      backoffBaseMs: 1,
    });
    // The lost answer was retried by looking, not by sending again.
    expect(first).toBe('b1');
    expect(created).toHaveLength(1);
    // A new process sees the second part as open, with no batch yet, and may have sent it.
    const reopened = openBatches(journal);
    expect(reopened.map((batch) => [batch.batchId, batch.resumed])).toEqual([
      ['b1', true],
      [undefined, true],
    ]);
    expect(await ensureSubmitted(client, journal, reopened[1] as never, rebuild)).toBe('b2');
    expect(created).toHaveLength(2);
  });

  it('does not retry a batch the provider refused', async () => {
    const journal = memoryJournal();
    const { client } = lossyProvider();
    const refusing: BatchClient = {
      ...client,
      async submit() {
        throw new ModelError({ provider: 'memory', status: 400, message: 'bad model' });
      },
    };
    const [open] = journalIntents(refusing, journal, 0, [
      { key: 'a', request: { messages: [], temperature: 0, maxTokens: 1 } },
    ]);
    await expect(
      ensureSubmitted(refusing, journal, open as never, () => ({}) as never),
    ).rejects.toThrow('bad model');
  });
});
