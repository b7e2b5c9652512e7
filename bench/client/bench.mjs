// Unary call throughput of the typed WorkerClient (signal/timeout plumbing, partial-message
// building, error mapping) against raw grpc-js calls with the same generated serializers, both on
// an in-process server: the client's overhead as a ratio.
import { setMaxListeners } from 'node:events';
import { Client, credentials, Server, ServerCredentials } from '@grpc/grpc-js';
import { createWorkerClient, GetCapabilitiesResponse, WorkerService } from '@midspec/proto';

const CALLS = 4000;
const CONCURRENCY = 16;

async function timeCalls(call) {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < CALLS) {
        next += 1;
        await call();
      }
    }),
  );
  return CALLS / (Number(process.hrtime.bigint() - start) / 1e9);
}

export default async function bench({ log }) {
  const server = new Server();
  const response = GetCapabilitiesResponse.fromPartial({
    workerName: 'bench',
    builtinModels: ['tiny:llama'],
  });
  const handlers = Object.fromEntries(
    Object.keys(WorkerService).map((name) => [
      name,
      (_call, callback) => callback?.(null, response),
    ]),
  );
  server.addService(WorkerService, handlers);
  const port = await new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  const address = `127.0.0.1:${port}`;
  const typed = createWorkerClient(address);
  const raw = new Client(address, credentials.createInsecure());
  const method = WorkerService.getCapabilities;
  const rawCall = () =>
    new Promise((resolve, reject) =>
      raw.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        {},
        (error, value) => (error ? reject(error) : resolve(value)),
      ),
    );
  const signal = new AbortController().signal;
  // One signal shared by all in-flight calls, as an application would; each call removes its listener.
  setMaxListeners(CONCURRENCY * 2, signal);
  // Warm both paths before measuring.
  await timeCalls(rawCall);
  await timeCalls(() => typed.getCapabilities({}, { signal, timeoutMs: 10_000 }));
  const rawRate = await timeCalls(rawCall);
  const typedRate = await timeCalls(() => typed.getCapabilities({}, { signal, timeoutMs: 10_000 }));
  log(`${CALLS} calls, ${CONCURRENCY} in flight`);
  typed.close();
  raw.close();
  server.forceShutdown();
  return [
    {
      name: 'GetCapabilities calls/s (WorkerClient, with signal + timeout)',
      value: typedRate,
      unit: 'calls/s',
      baseline: { name: 'raw grpc-js', value: rawRate },
      target: '≥ 0.9× raw',
    },
  ];
}
