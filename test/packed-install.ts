import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Offline, pnpm resolves each dependency to the newest version it has metadata for, which need not
 * be in the store: pin every third-party package to the version this repository's lockfile has.
 */
export async function lockfilePins(): Promise<Record<string, string>> {
  const lock = await readFile(join(root, 'pnpm-lock.yaml'), 'utf8');
  const section = lock.slice(lock.lastIndexOf('\npackages:\n'), lock.lastIndexOf('\nsnapshots:\n'));
  const pins: Record<string, string> = {};
  for (const match of section.matchAll(/^ {2}'?((?:@[^/\s]+\/)?[^@\s']+)@([0-9][^(':\s]*)/gm)) {
    const [, name, version] = match as unknown as [string, string, string];
    // Several versions of one package: the newest is the one pnpm would pick.
    if (!pins[name] || compare(version, pins[name]) > 0) pins[name] = version;
  }
  return pins;
}

function compare(a: string, b: string): number {
  const parts = (version: string) => version.split(/[.-]/).map((part) => Number(part) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let index = 0; index < Math.max(x.length, y.length); index += 1) {
    const difference = (x[index] ?? 0) - (y[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** `pnpm pack`s packages/<name> (its workspace:* dependencies become versions) into `directory`. */
export async function packPackage(name: string, directory: string): Promise<string> {
  const { stdout } = await run('pnpm', ['pack', '--pack-destination', directory], {
    cwd: join(root, 'packages', name),
  });
  return stdout.trim().split('\n').at(-1) as string;
}

/**
 * A clean project in `app` that depends on `main` only, with every @midspec package it pulls in
 * taken from the given tarballs, installed offline from the pnpm store (no registry, no checkout).
 */
export async function installTarballs(
  app: string,
  main: string,
  tarballs: Record<string, string>,
): Promise<void> {
  await mkdir(app, { recursive: true });
  await writeFile(
    join(app, 'package.json'),
    JSON.stringify({
      name: 'packed-install-probe',
      private: true,
      type: 'module',
      dependencies: { [main]: `file:${tarballs[main]}` },
    }),
  );
  const overrides: Record<string, string> = await lockfilePins();
  for (const [name, tarball] of Object.entries(tarballs))
    if (name !== main) overrides[name] = `file:${tarball}`;
  await writeFile(
    join(app, 'pnpm-workspace.yaml'),
    `overrides:\n${Object.entries(overrides)
      .map(([name, version]) => `  ${JSON.stringify(name)}: ${JSON.stringify(version)}`)
      .join(
        '\n',
      )}\n# Its postinstall only prints a version notice (as in this repository's workspace).\nallowBuilds:\n  protobufjs: false\n`,
  );
  await run('pnpm', ['install', '--offline'], { cwd: app, env: { ...process.env, CI: 'true' } });
}
