import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { WorkerService } from '@midspec/proto';
import { HealthImplementation } from 'grpc-health-check';
import { DatasetStore } from './dataset-store.js';
import { RunManager } from './run-manager.js';
import { createWorkerService } from './worker-service.js';

const WORKER_SERVICE = 'midspec.worker.v1.Worker';

export interface StartWorkerOptions {
  /** Where datasets, run folders and checkpoints go. */
  dataDir: string;
  /** The shell command that trains one run; it runs in the run's folder (see the README). */
  trainCommand: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Base models the command accepts (default `tiny:llama`, a built-in of the reference loop). */
  models?: string[];
  /** The contract's .proto files, for reflection (default: this repository's `protos/`). */
  protoDir?: string;
  heartbeatMs?: number;
}

export interface RunningWorker {
  address: string;
  close(): Promise<void>;
}

/** Starts the worker: the Worker service, grpc.health.v1 and server reflection on one port. */
export async function startWorker(options: StartWorkerOptions): Promise<RunningWorker> {
  const datasets = await DatasetStore.open(join(options.dataDir, 'datasets'));
  const runs = new RunManager({
    directory: join(options.dataDir, 'runs'),
    datasets,
    trainCommand: options.trainCommand,
    heartbeatMs: options.heartbeatMs,
  });
  const server = new Server({ 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
  server.addService(
    WorkerService,
    createWorkerService({ datasets, runs, models: options.models ?? ['tiny:llama'] }),
  );
  new HealthImplementation({ '': 'SERVING', [WORKER_SERVICE]: 'SERVING' }).addToServer(server);
  // Reflection serves descriptors, which the generated ts-proto code does not carry: load the
  // .proto files themselves.
  const protoDir = options.protoDir ?? fileURLToPath(new URL('../../../protos', import.meta.url));
  const definition = loadSync(join(protoDir, 'midspec/worker/v1/worker.proto'), {
    includeDirs: [protoDir],
  });
  new ReflectionService(definition).addToServer(server);

  const host = options.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      `${host}:${options.port ?? 0}`,
      ServerCredentials.createInsecure(),
      (error, bound) => (error ? reject(error) : resolve(bound)),
    ),
  );
  return {
    address: `${host}:${port}`,
    async close() {
      runs.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}
