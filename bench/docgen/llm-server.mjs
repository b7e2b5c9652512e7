// An OpenAI-compatible chat completions server with a fixed latency per request, run as a child
// process so that its CPU time is not counted as the engine's. Structured requests (response_format
// json_object) get as many {"name", "description"} items as the prompt asks for; others get a
// document of about 2 kB whose words depend on a counter, so documents are distinct.
import { createServer } from 'node:http';

const latencyMs = Number(process.argv[2] ?? 200);
let counter = 0;

function words(seed, count) {
  const out = [];
  let state = Math.imul(seed, 2654435761) >>> 0;
  for (let i = 0; i < count; i += 1) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out.push(`w${state % 20000}`);
  }
  return out.join(' ');
}

const server = createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    counter += 1;
    const id = counter;
    let content;
    if (body.response_format?.type === 'json_object') {
      const last = body.messages.at(-1).content;
      const wanted = Number(/List (\d+)/.exec(last)?.[1] ?? /Write (\d+)/.exec(last)?.[1] ?? 1);
      content = JSON.stringify({
        items: Array.from({ length: wanted }, (_, i) => ({
          name: `item ${id}-${i}`,
          description: words(id * 100 + i, 12),
        })),
      });
    } else content = `Document ${id}. ${words(id, 330)}`;
    const payload = JSON.stringify({
      id: `chatcmpl-${id}`,
      object: 'chat.completion',
      created: 0,
      model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1000, completion_tokens: Math.ceil(content.length / 4) },
    });
    setTimeout(() => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(payload);
    }, latencyMs);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
