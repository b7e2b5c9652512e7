// What the official `openai` SDK (as @midspec/models uses it) costs per request, beside a bare
// keep-alive node:http POST (what docgen used before): the same local server, the same 18 kB
// prompt (a spec-sized system message), 50 requests in flight, client and server in this process.
import { once } from 'node:events';
import { Agent, createServer, request as httpRequest } from 'node:http';
import { createOpenAIClient } from '@midspec/models';

const REQUESTS = 4000;
const IN_FLIGHT = 50;

export default async function bench({ log }) {
  const answer = JSON.stringify({
    id: 'c',
    object: 'chat.completion',
    created: 0,
    model: 'm',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'x'.repeat(4000) },
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  });
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(answer);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${server.address().port}/v1`;
  const messages = [
    { role: 'system', content: 'y'.repeat(18_000) },
    { role: 'user', content: 'write' },
  ];
  const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  const bare = () =>
    new Promise((resolve, reject) => {
      const text = JSON.stringify({ model: 'm', messages, temperature: 0.8, max_tokens: 100 });
      const request = httpRequest(
        `${url}/chat/completions`,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(text),
          },
        },
        (response) => {
          const chunks = [];
          response.on('data', (chunk) => chunks.push(chunk));
          response.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
        },
      );
      request.on('error', reject);
      request.end(text);
    });
  const client = createOpenAIClient({ model: 'm', baseUrl: url, maxRetries: 0 });
  const sdk = () => client.chat({ messages, temperature: 0.8, maxTokens: 100 });
  const measure = async (call) => {
    let next = 0;
    const cpu = process.cpuUsage();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next++ < REQUESTS) await call();
      }),
    );
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / 1000 / REQUESTS;
  };
  try {
    await measure(bare); // warm-up
    await measure(sdk);
    const bareMs = await measure(bare);
    const sdkMs = await measure(sdk);
    log(
      `${REQUESTS} requests each, ${IN_FLIGHT} in flight: bare ${bareMs.toFixed(3)} ms, SDK ${sdkMs.toFixed(3)} ms CPU per request`,
    );
    return [
      {
        name: 'CPU per chat request (client + local server)',
        value: sdkMs,
        unit: 'ms',
        baseline: { name: 'bare node:http POST', value: bareMs },
        target: 'informational',
      },
    ];
  } finally {
    server.close();
    agent.destroy();
  }
}
