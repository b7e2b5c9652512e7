import { describe, expect, it } from 'vitest';
import { formatCliError } from './cli-error.js';
import { runCli, USAGE_EXIT_CODE } from './program.js';

async function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', 'midspec', ...args], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: {},
    cwd: process.cwd(),
  });
  return { code, stdout, stderr };
}

describe('CLI conventions', () => {
  it('a command called wrongly exits 2 with the error and a one-line hint, not the whole help', async () => {
    const unknown = await cli(['run', 'x.yaml', '--no-such-option']);
    expect(unknown.code).toBe(USAGE_EXIT_CODE);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toMatch(/^error: unknown option '--no-such-option'/);
    expect(unknown.stderr).toContain('(add --help for usage)');
    expect(unknown.stderr).not.toContain('Usage:');
    expect(unknown.stderr.trim().split('\n')).toHaveLength(2);
    const missing = await cli(['run']);
    expect(missing.code).toBe(USAGE_EXIT_CODE);
    expect(missing.stderr).toMatch(/^error: missing required argument 'experiment'/);
  });

  it('--help and --version still exit 0', async () => {
    expect((await cli(['--version'])).code).toBe(0);
    expect((await cli(['run', '--help'])).code).toBe(0);
  });

  it('a missing file is named with its reason on stderr, with no raw ENOENT or stack', async () => {
    const result = await cli(['run', '/no/such/experiment.yaml']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: cannot read .*experiment\.yaml: no such file/);
    expect(result.stderr).not.toContain('ENOENT');
    expect(result.stderr).not.toContain('    at ');
    const raw = Object.assign(new Error("ENOENT: no such file or directory, open 'a.jsonl'"), {
      code: 'ENOENT',
      path: 'a.jsonl',
    });
    expect(formatCliError(raw)).toBe('error: a.jsonl: no such file or directory');
  });
});
