import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAnthropicBatchClient, createOpenAIBatchClient } from '@midspec/models';
import { loadSpec } from '@midspec/spec';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateCorpus } from './corpus-pipeline.js';
import { createTemplateProvider } from './provider-template.js';
import {
  anthropicMessage,
  openAICompletion,
  startFakeServer,
} from './test-support/fake-llm-server.js';

const specFile = new URL('../../../examples/specs/cheese-affordability.yaml', import.meta.url)
  .pathname;
const config = {
  domains: 1,
  subdomains: 2,
  assertions: 1,
  docTypes: 2,
  ideas: 2,
  minDocumentChars: 5,
};
let dir: string;
let close: (() => Promise<void>) | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'docgen-batch-'));
});
afterEach(async () => {
  await close?.();
  close = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** The OpenAI Files + Batch wire format: upload, create, poll (in progress twice), download. */
async function openAIBatchServer() {
  let lines: { custom_id: string }[] = [];
  let polls = 0;
  const server = await startFakeServer((request) => {
    if (request.url === '/v1/files' && request.method === 'POST') {
      lines = request.raw
        .split(/\r?\n/)
        .filter((line) => line.startsWith('{"custom_id"'))
        .map((line) => JSON.parse(line));
      return { body: { id: 'file-in', object: 'file', purpose: 'batch' } };
    }
    if (request.url === '/v1/batches' && request.method === 'POST')
      return { body: { id: 'batch_1', object: 'batch', status: 'validating' } };
    if (request.url === '/v1/batches/batch_1') {
      polls += 1;
      const done = polls > 2;
      return {
        body: {
          id: 'batch_1',
          status: done ? 'completed' : 'in_progress',
          output_file_id: done ? 'file-out' : null,
          error_file_id: null,
          request_counts: { total: lines.length, completed: done ? lines.length : 0, failed: 0 },
        },
      };
    }
    if (request.url === '/v1/files/file-out/content')
      return {
        body: lines
          .map((line) =>
            JSON.stringify({
              custom_id: line.custom_id,
              response: {
                status_code: 200,
                body: openAICompletion(`Document for ${line.custom_id}: the rule and its reason.`),
              },
              error: null,
            }),
          )
          .join('\n'),
      };
    return { status: 404, body: { error: 'not found' } };
  });
  return server;
}

describe('batch APIs', () => {
  it('OpenAI Batch: a crash while polling reattaches to the same batch and loses nothing', async () => {
    const server = await openAIBatchServer();
    close = server.close;
    const { spec } = await loadSpec(specFile);
    const backend = createOpenAIBatchClient({
      model: 'gpt-test',
      baseUrl: `${server.url}/v1`,
      apiKey: 'k',
    });
    const controller = new AbortController();
    const first = generateCorpus({
      spec,
      provider: createTemplateProvider(),
      batch: backend,
      batchPollIntervalMs: 10,
      outDir: dir,
      config,
      signal: controller.signal,
      onProgress: (progress) => {
        if (progress.stage === 'documents' && progress.total > 0)
          controller.abort(new Error('crash'));
      },
    });
    await expect(first).rejects.toThrow('crash');
    const journal = (await readFile(join(dir, 'stages/batches/documents.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(journal.map((entry) => entry.event)).toEqual(['intent', 'submitted']);
    expect(journal[1].batchId).toBe('batch_1');

    const result = await generateCorpus({
      spec,
      provider: createTemplateProvider(),
      batch: backend,
      batchPollIntervalMs: 10,
      outDir: dir,
      config,
    });
    expect(
      server.requests.filter(
        (request) => request.url === '/v1/batches' && request.method === 'POST',
      ),
    ).toHaveLength(1);
    expect(result.documents.length).toBe(8);
    expect(result.documents[0]?.text).toMatch(/^Document for [a-f0-9]{12}-\d+/);
    const uploaded = server.requests.find((request) => request.url === '/v1/files');
    expect(uploaded?.raw).toContain('"url":"/v1/chat/completions"');
  });

  it('Anthropic Message Batches through the SDK', async () => {
    let customIds: string[] = [];
    const server = await startFakeServer((request) => {
      if (request.url === '/v1/messages/batches' && request.method === 'POST') {
        customIds = (request.body.requests as { custom_id: string }[]).map(
          (item) => item.custom_id,
        );
        return { body: batchObject('in_progress') };
      }
      if (request.url === '/v1/messages/batches/msgbatch_1') return { body: batchObject('ended') };
      if (request.url === '/v1/messages/batches/msgbatch_1/results')
        return {
          body: customIds
            .map((id, index) =>
              JSON.stringify(
                index === 0
                  ? {
                      custom_id: id,
                      result: {
                        type: 'errored',
                        error: { type: 'error', error: { type: 'api_error', message: 'x' } },
                      },
                    }
                  : {
                      custom_id: id,
                      result: { type: 'succeeded', message: anthropicMessage(`answer ${id}`) },
                    },
              ),
            )
            .join('\n'),
        };
      return {
        status: 404,
        body: { type: 'error', error: { type: 'not_found_error', message: request.url } },
      };
    });
    close = server.close;
    function batchObject(status: string) {
      return {
        id: 'msgbatch_1',
        type: 'message_batch',
        processing_status: status,
        request_counts: {
          processing: status === 'ended' ? 0 : customIds.length,
          succeeded: status === 'ended' ? customIds.length : 0,
          errored: 0,
          canceled: 0,
          expired: 0,
        },
        results_url:
          status === 'ended' ? `${server.url}/v1/messages/batches/msgbatch_1/results` : null,
        created_at: '2026-01-01T00:00:00Z',
        expires_at: '2026-01-02T00:00:00Z',
        ended_at: null,
        cancel_initiated_at: null,
        archived_at: null,
      };
    }
    const backend = createAnthropicBatchClient({
      model: 'claude-test',
      apiKey: 'k',
      baseUrl: server.url,
    });
    const id = await backend.submit(
      [
        {
          customId: 'a',
          request: {
            messages: [
              { role: 'system', content: 's' },
              { role: 'user', content: 'u' },
            ],
            temperature: 0.8,
            maxTokens: 9,
          },
        },
        {
          customId: 'b',
          request: { messages: [{ role: 'user', content: 'v' }], temperature: 0.8, maxTokens: 9 },
        },
      ],
      { id: 'intent-1', createdAt: Date.now(), size: 2 },
    );
    expect(id).toBe('msgbatch_1');
    expect(server.requests[0]?.body).toMatchObject({
      requests: [
        {
          custom_id: 'a',
          params: {
            model: 'claude-test',
            // The spec's system block is a prompt-cache breakpoint.
            system: [{ type: 'text', text: 's', cache_control: { type: 'ephemeral' } }],
            max_tokens: 9,
          },
        },
        { custom_id: 'b' },
      ],
    });
    expect((await backend.status(id)).done).toBe(true);
    const results = await backend.results(id);
    expect(results.get('a')).toMatchObject({ ok: false });
    expect(results.get('b')).toMatchObject({
      ok: true,
      result: { text: 'answer b', usage: { inputTokens: 13 } },
    });
  });
});
