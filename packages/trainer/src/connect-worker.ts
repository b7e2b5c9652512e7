import {
  createWorkerClient,
  type GetCapabilitiesResponse,
  type WorkerClient,
  type WorkerClientOptions,
  WorkerError,
} from '@midspec/proto';
import { TrainerError } from './trainer-error.js';

export interface ConnectedWorker {
  client: WorkerClient;
  capabilities: GetCapabilitiesResponse;
}

/**
 * Opens a client and asks the worker for its capabilities. A worker that does not answer gives a
 * TrainerError naming the address and what to check, instead of a raw gRPC status.
 */
export async function connectWorker(
  address: string,
  options: WorkerClientOptions & { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<ConnectedWorker> {
  const client = createWorkerClient(address, options);
  const timeoutMs = options.timeoutMs ?? 10_000;
  try {
    await client.waitForReady({ timeoutMs });
    const capabilities = await client.getCapabilities({}, { timeoutMs, signal: options.signal });
    return { client, capabilities };
  } catch (error) {
    client.close();
    if (
      WorkerError.isInstance(error) &&
      ['UNAVAILABLE', 'DEADLINE_EXCEEDED'].includes(error.grpcStatus)
    )
      throw unreachable(address, timeoutMs, error);
    throw error;
  }
}

export function unreachable(address: string, timeoutMs: number, cause: unknown): TrainerError {
  return new TrainerError({
    code: 'trainer/worker-unreachable',
    summary:
      `no midspec worker answered at ${address} within ${timeoutMs} ms. Check that a worker is running ` +
      `there (\`midspec worker start\` starts the reference one), that the host and port are right ` +
      `(--worker or MIDSPEC_WORKER), that a firewall or tunnel lets you through, and that TLS and ` +
      `MIDSPEC_WORKER_TOKEN match the worker's settings`,
    cause,
  });
}
