import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliIo } from './cli-io.js';
import { runCli } from './program.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

class Capture {
  text = '';
  write(chunk: string | Uint8Array): boolean {
    this.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }
}

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'midspec-spec-cli-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function midspec(args: string[], cwd = dir) {
  const stdout = new Capture();
  const stderr = new Capture();
  const io = { stdout, stderr, env: {}, cwd } as unknown as CliIo;
  const code = await runCli(['node', 'midspec', 'spec', ...args], io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const VALID = `id: demo
title: Demo
version: 1.0.0
variables:
  model_name: {}
values:
  - id: care
    name: Care
    explanation: People matter.
principles:
  - id: P1
    statement: "{model_name} never shares a user's address with third parties."
    rationale: Privacy protects users.
    values: [care]
    examples:
      - kind: bad
        text: Pasting the address into a public channel.
`;

describe('midspec spec lint', () => {
  it('exits 0 on every example spec and prints file:line:col lines for warnings', async () => {
    for (const file of [
      'examples/specs/cheese-affordability.yaml',
      'examples/specs/cheese-america.yaml',
      'examples/specs/safety-values.md',
    ]) {
      const result = await midspec(['lint', file], repoRoot);
      expect(result.code, `${file}\n${result.stdout}`).toBe(0);
      expect(result.stdout).toBe('');
    }
    const rules = await midspec(['lint', 'examples/specs/safety-rules.md'], repoRoot);
    expect(rules.code).toBe(0);
    expect(rules.stdout).toMatch(
      /^examples\/specs\/safety-rules\.md:\d+:\d+ warning missing-rationale principle SP1 /m,
    );
    expect(rules.stderr).toContain(
      'examples/specs/safety-rules.md: 5 principles, 20 sub-rules, 7 examples; explained 0% (0/5)',
    );
    expect(rules.stderr).toMatch(/\n0 errors, 5 warnings\n$/);
  });

  it('lints several files in one run', async () => {
    await writeFile(path.join(dir, 'ok.yaml'), VALID);
    await writeFile(path.join(dir, 'empty.md'), '# Notes\n\nNo rules here.\n');
    const result = await midspec(['lint', 'ok.yaml', 'empty.md']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^empty\.md:1:1 error no-principles no principles found/m);
    expect(result.stderr).toMatch(/^ok\.yaml: 1 principles, .*\n1 error, 0 warnings\n$/);
  });

  it('fails with --strict when there are warnings', async () => {
    const result = await midspec(['lint', '--strict', 'examples/specs/safety-rules.md'], repoRoot);
    expect(result.code).toBe(1);
  });

  it('exits 1 on errors and reports each with its line and column', async () => {
    const file = path.join(dir, 'broken.yaml');
    await writeFile(
      file,
      `id: broken
title: Broken
version: "1"
principles:
  - id: P1
    statement: Use {tool_name} only when asked.
    rationale: x
    examples: [{ kind: good, text: y }]
  - id: P1
    statement: "  "
    rationale: x
    examples: [{ kind: good, text: y }]
`,
    );
    const result = await midspec(['lint', 'broken.yaml']);
    expect(result.code).toBe(1);
    // An undeclared placeholder is a warning, at the placeholder itself.
    expect(result.stdout).toContain('broken.yaml:6:20 warning undefined-variable');
    expect(result.stdout).toContain('broken.yaml:9:9 error duplicate-id');
    expect(result.stdout).toContain('broken.yaml:10:16 error empty-statement');
  });

  it('writes JSON for tools', async () => {
    await writeFile(path.join(dir, 'ok.yaml'), VALID);
    const result = await midspec(['lint', '--json', 'ok.yaml']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      errors: 0,
      warnings: 0,
      files: [{ file: 'ok.yaml', diagnostics: [] }],
    });
  });

  it('reports syntax errors with line and column, without a stack trace', async () => {
    await writeFile(path.join(dir, 'bad.yaml'), 'id: x\ntitle: [unclosed\n');
    const result = await midspec(['lint', 'bad.yaml']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^bad\.yaml:\d+:\d+ error syntax /m);
    expect(result.stdout + result.stderr).not.toContain('    at ');
  });

  it('reports a missing file as an error line', async () => {
    const result = await midspec(['lint', 'nope.yaml']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('nope.yaml:1:1 error file cannot read nope.yaml: no such file');
  });

  it('has one spelling for JSON: --json; --format is a usage error', async () => {
    const result = await midspec(['lint', '--format', 'json', 'x.yaml']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: unknown option '--format'/);
  });
});

describe('midspec spec show', () => {
  it('renders Markdown with variables filled from --var', async () => {
    await writeFile(path.join(dir, 'ok.yaml'), VALID);
    const result = await midspec(['show', 'ok.yaml', '--var', 'model_name=Midge']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Midge never shares a user's address");
    expect(result.stdout).toContain('### P1 {#P1}');
  });

  it('renders JSON and YAML', async () => {
    await writeFile(path.join(dir, 'ok.yaml'), VALID);
    const json = await midspec(['show', 'ok.yaml', '--format', 'json', '--var', 'model_name=M']);
    expect(JSON.parse(json.stdout).principles[0].statement).toBe(
      "M never shares a user's address with third parties.",
    );
    const yaml = await midspec(['show', 'ok.yaml', '--format', 'yaml', '--keep-variables']);
    expect(yaml.stdout).toContain('{model_name} never shares');
  });

  it('names a variable that has no value', async () => {
    await writeFile(path.join(dir, 'ok.yaml'), VALID);
    const result = await midspec(['show', 'ok.yaml']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('{model_name} has no value');
    expect(result.stderr).not.toContain('    at ');
  });

  it('warns of an unknown --var and rejects a malformed one', async () => {
    await writeFile(path.join(dir, 'ok.yaml'), VALID);
    const unknown = await midspec(['show', 'ok.yaml', '--var', 'model_name=M', '--var', 'modle=x']);
    expect(unknown.code, unknown.stderr).toBe(0);
    expect(unknown.stderr).toContain(
      'warning: --var modle: ok.yaml neither declares nor uses {modle}',
    );
    const malformed = await midspec(['show', 'ok.yaml', '--var', 'oops']);
    expect(malformed.code).not.toBe(0);
    expect(malformed.stderr).toContain('expected name=value');
  });

  it('refuses a spec with lint errors', async () => {
    await writeFile(path.join(dir, 'dup.yaml'), VALID.replace('values: [care]', 'values: [nope]'));
    const result = await midspec(['show', 'dup.yaml', '--var', 'model_name=M']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('undefined value "nope"');
  });
});

describe('midspec spec schema and fingerprint', () => {
  it('prints the JSON Schema', async () => {
    const result = await midspec(['schema']);
    expect(result.code).toBe(0);
    const schema = JSON.parse(result.stdout);
    expect(schema.$schema).toContain('2020-12');
    expect(schema.required).toEqual(
      expect.arrayContaining(['id', 'title', 'version', 'principles']),
    );
  });

  it('gives the same fingerprint for the same spec in YAML and JSON', async () => {
    await writeFile(path.join(dir, 'ok.yaml'), VALID);
    const yaml = await midspec(['fingerprint', 'ok.yaml']);
    const shown = await midspec(['show', 'ok.yaml', '--format', 'json', '--keep-variables']);
    await writeFile(path.join(dir, 'ok.json'), shown.stdout);
    const json = await midspec(['fingerprint', 'ok.json']);
    expect(yaml.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect(json.stdout).toBe(yaml.stdout);
  });

  it('keeps the fingerprint through show --format markdown and back', async () => {
    const source = 'examples/specs/cheese-affordability.yaml';
    const original = await midspec(['fingerprint', source], repoRoot);
    const shown = await midspec(['show', source, '--keep-variables'], repoRoot);
    await writeFile(path.join(dir, 'cheese.md'), shown.stdout);
    const again = await midspec(['fingerprint', 'cheese.md']);
    expect(again.stdout).toBe(original.stdout);
  });

  it('refuses a binary file', async () => {
    await writeFile(path.join(dir, 'blob.yaml'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]));
    const result = await midspec(['fingerprint', 'blob.yaml']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('looks like a binary file');
  });
});

describe('midspec spec on published specs', () => {
  const fixture = (name: string) => `packages/spec/fixtures/${name}`;

  it('show --var model_name=X works on the paper-style rule list with no front matter', async () => {
    const result = await midspec(
      ['show', '--var', 'model_name=Claude', '--format', 'rule-list', fixture('rules-only.txt')],
      repoRoot,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^# Model Spec\n\nClaude follows every instruction/);
    expect(result.stdout).toContain(
      '- SP1: Do not undermine legitimate human oversight of AI. This includes:\n    - Not undermining',
    );
    expect(result.stderr).not.toContain('reads back as');
    // OpenAI's spec has ids without a digit and sections of prose: a rule list cannot carry it.
    const openai = await midspec(
      ['show', '--format', 'rule-list', fixture('openai-model-spec/model_spec.md')],
      repoRoot,
    );
    expect(openai.code, openai.stderr).toBe(0);
    expect(openai.stderr).toMatch(
      /^warning: packages\/spec\/fixtures\/openai-model-spec\/model_spec.md: this rule list reads back as \d+ principles, not the 59 principles written .*use --format markdown/,
    );
    const unknown = await midspec(
      ['show', '--var', 'colour=red', fixture('rules-only.txt')],
      repoRoot,
    );
    expect(unknown.code, unknown.stderr).toBe(0);
    expect(unknown.stderr).toContain('warning: --var colour:');
    expect(unknown.stderr).toContain('neither declares nor uses {colour}; nothing replaced');
  });

  it('lint prints the summary that tells the ablation arms apart, in text and JSON', async () => {
    const files = ['rules-only.txt', 'more-rules.txt', 'value-augmented.md'].map(fixture);
    const text = await midspec(['lint', ...files], repoRoot);
    expect(text.code).toBe(0);
    expect(text.stderr).toContain(
      'packages/spec/fixtures/rules-only.txt: 5 principles, 10 sub-rules, 0 examples; explained 0% (0/5)',
    );
    expect(text.stderr).toContain(
      'packages/spec/fixtures/value-augmented.md: 5 principles, 0 sub-rules, 0 examples; explained 100% (5/5)',
    );
    const json = JSON.parse((await midspec(['lint', '--json', ...files], repoRoot)).stdout);
    expect(
      json.files.map(
        (file: { summary: { explainedShare: number } }) => file.summary.explainedShare,
      ),
    ).toEqual([0, 0, 1]);
  });

  it("lint on the whole of OpenAI's Model Spec and Anthropic's constitution: zero errors, counts, no noise", async () => {
    const files = ['openai-model-spec/model_spec.md', 'anthropic-constitution/constitution.md'];
    const text = await midspec(['lint', ...files.map(fixture)], repoRoot);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stderr).toContain(
      'packages/spec/fixtures/openai-model-spec/model_spec.md: 59 principles, 65 sub-rules, 397 examples;',
    );
    expect(text.stderr).toContain(
      'packages/spec/fixtures/anthropic-constitution/constitution.md: 23 principles, 136 sub-rules, 0 examples;',
    );
    const json = JSON.parse(
      (await midspec(['lint', '--json', ...files.map(fixture)], repoRoot)).stdout,
    );
    expect(json.errors).toBe(0);
    const codes = new Set(
      json.files.flatMap((file: { diagnostics: { code: string }[] }) =>
        file.diagnostics.map((d) => d.code),
      ),
    );
    expect([...codes].sort()).toEqual(['missing-rationale', 'no-examples']);
  });

  it('lint on an OpenAI-style spec: no errors, no LaTeX or annotation noise; --authority-levels', async () => {
    const result = await midspec(['lint', '--json', fixture('openai-style.md')], repoRoot);
    expect(result.code).toBe(0);
    const [file] = JSON.parse(result.stdout).files;
    expect(file.summary).toMatchObject({ principles: 5, subRules: 2, examples: 6 });
    for (const diagnostic of file.diagnostics)
      expect(['missing-rationale', 'no-examples', 'vague-guidance']).toContain(diagnostic.code);
    const shown = await midspec(
      [
        'show',
        '--format',
        'json',
        '--authority-levels',
        'root,guideline,user,developer,system',
        fixture('openai-style.md'),
      ],
      repoRoot,
    );
    expect(JSON.parse(shown.stdout).preamble.authorityLevels).toEqual([
      'root',
      'guideline',
      'user',
      'developer',
      'system',
    ]);
    const bad = await midspec(
      ['lint', '--authority-levels', 'root,,9x', fixture('openai-style.md')],
      repoRoot,
    );
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('expected comma-separated level names');
  });
});
