import { CliUsageError } from './cli-usage-error.js';

export const WORKER_ADDRESS_ENV = 'MIDSPEC_WORKER';

/** The worker address: the explicit option first, then MIDSPEC_WORKER. */
export function optionalWorkerAddress(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv,
): string | undefined {
  const address = explicit ?? env[WORKER_ADDRESS_ENV];
  if (address === undefined || address === '') return undefined;
  if (!/^[^\s:]+:\d{1,5}$/.test(address) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(address)) {
    throw new CliUsageError(`worker address "${address}" is not HOST:PORT`);
  }
  return address;
}

export function requireWorkerAddress(explicit: string | undefined, env: NodeJS.ProcessEnv): string {
  const address = optionalWorkerAddress(explicit, env);
  if (!address) {
    throw new CliUsageError(
      `no worker address: pass --worker HOST:PORT or set ${WORKER_ADDRESS_ENV} (start one with \`midspec worker start\`)`,
    );
  }
  return address;
}
