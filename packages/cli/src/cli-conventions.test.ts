import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { formatCliError } from './cli-error.js';
import { createProgram, runCli, USAGE_EXIT_CODE } from './program.js';

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

  it('--json is the one spelling of machine-readable output, on every command that prints a result', () => {
    const io = { stdout: { write: () => true }, stderr: { write: () => true }, env: {}, cwd: '.' };
    const leaves: Command[] = [];
    const walk = (command: Command) => {
      if (command.commands.length === 0) leaves.push(command);
      for (const sub of command.commands) walk(sub);
    };
    walk(createProgram(io));
    const name = (command: Command): string =>
      command.parent?.parent ? `${name(command.parent)} ${command.name()}` : command.name();
    // What prints no result of its own: a JSON Schema (JSON already), a spec in a chosen rendering.
    const exempt = new Set(['spec schema', 'spec show']);
    const missing = leaves
      .filter((command) => !exempt.has(name(command)))
      .filter((command) => !command.options.some((option) => option.long === '--json'))
      .map(name);
    expect(missing).toEqual([]);
    expect(leaves.length).toBeGreaterThan(25);
    // No second spelling: a --format option chooses a file or rendering format, never JSON output.
    const formats = leaves.flatMap((command) =>
      command.options
        .filter((option) => option.long === '--format')
        .map((option) => `${name(command)}: ${option.description}`),
    );
    expect(formats).toEqual([
      'runs download: native, adapter, merged-hf or onnx',
      expect.stringMatching(/^spec show: markdown .* json or yaml$/),
    ]);
  });

  it('--json prints one JSON document on stdout', async () => {
    const plan = await cli(['eval', 'plan', '--rate', '0.1', '--width', '0.06', '--json']);
    expect(plan.code).toBe(0);
    expect(JSON.parse(plan.stdout)).toMatchObject({ samplesPerCondition: 384, method: 'wilson' });
    const suite = new URL('../../../examples/sdk-quickstart/held-out-suite.yaml', import.meta.url)
      .pathname;
    const check = await cli(['eval', 'check', suite, '--json']);
    expect(check.code).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({ valid: true, kind: 'preference-choice' });
    const text = await cli(['eval', 'plan', '--rate', '0.1', '--width', '0.06']);
    expect(text.stdout).toMatch(/^384 scored samples per condition/);
  });

  it("a command's own usage check exits 2 with the error and the hint, one line each", async () => {
    const result = await cli(['train']);
    expect(result.code).toBe(USAGE_EXIT_CODE);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      'error: nothing to train on: pass CURRICULUM.yaml, or --text FILE and/or --chat FILE',
      '(add --help for usage)',
    ]);
    const method = await cli(['eval', 'plan', '--rate', '0.1', '--width', '0.1', '--method', 'x']);
    expect(method.code).toBe(USAGE_EXIT_CODE);
    expect(method.stderr).toMatch(/^error: --method must be wilson or normal, got x\n/);
  });

  it('a file that is missing or invalid is an `error:` on stderr naming it, exit 1', async () => {
    const missing = await cli(['eval', 'check', '/no/such/suite.yaml', '--json']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/^error: .*\/no\/such\/suite\.yaml/);
    expect(missing.stderr).not.toContain('    at ');
  });
});
