import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRequest {
  url: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
  /** The body as sent (multipart uploads are not JSON). */
  raw: string;
  method: string;
}

export type FakeHandler = (
  request: FakeRequest,
  index: number,
) => { status?: number; headers?: Record<string, string>; body: unknown; delayMs?: number };

/** A local HTTP server speaking whatever wire format the handler writes; records every request. */
export async function startFakeServer(handler: FakeHandler): Promise<{
  url: string;
  requests: FakeRequest[];
  close(): Promise<void>;
}> {
  const requests: FakeRequest[] = [];
  const server: Server = createServer(
    async (incoming: IncomingMessage, response: ServerResponse) => {
      const chunks: Buffer[] = [];
      for await (const chunk of incoming) chunks.push(chunk as Buffer);
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw || '{}') as Record<string, unknown>;
      } catch {
        body = {};
      }
      const request: FakeRequest = {
        url: incoming.url ?? '',
        method: incoming.method ?? 'GET',
        headers: incoming.headers,
        body,
        raw,
      };
      requests.push(request);
      const answer = handler(request, requests.length - 1);
      if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
      response.writeHead(answer.status ?? 200, {
        'content-type': 'application/json',
        ...answer.headers,
      });
      response.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An OpenAI chat.completion body, as documented. */
export function openAICompletion(content: string, finishReason = 'stop') {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 0,
    model: 'test-model',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: null },
        finish_reason: finishReason,
      },
    ],
    usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
  };
}

/** An Anthropic Messages response body, as documented. */
export function anthropicMessage(text: string, stopReason = 'end_turn') {
  return {
    id: 'msg_test',
    type: 'message',
    role: 'assistant',
    model: 'claude-test',
    content: [{ type: 'text', text }],
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { input_tokens: 13, output_tokens: 5 },
  };
}
