import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A local HTTP server answering in whatever documented wire format `answer` writes. */
export async function fakeServer(
  answer: (
    request: Seen,
    index: number,
  ) => { status?: number; headers?: Record<string, string>; body: unknown },
) {
  const seen: Seen[] = [];
  const server = createServer(async (incoming, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const request: Seen = {
      method: incoming.method ?? 'GET',
      url: incoming.url ?? '',
      headers: incoming.headers,
      body: raw ? (JSON.parse(raw) as Record<string, unknown>) : {},
    };
    seen.push(request);
    const reply = answer(request, seen.length - 1);
    response.writeHead(reply.status ?? 200, {
      'content-type': 'application/json',
      ...reply.headers,
    });
    response.end(JSON.stringify(reply.body));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
