import path from 'node:path';
import {
  assertNoLintErrors,
  fingerprintSpec,
  type LintDiagnostic,
  type LintFileResult,
  lintSpecFile,
  loadSpec,
  renderJson,
  renderMarkdown,
  renderSpec,
  renderYaml,
  specJsonSchema,
} from '@midspec/spec';
import { type Command, InvalidArgumentError } from 'commander';
import { CliExit } from './cli-exit.js';
import type { CliIo } from './cli-io.js';

const SHOW_FORMATS = ['markdown', 'json', 'yaml'] as const;
const LINT_FORMATS = ['human', 'json'] as const;

export function registerSpecCommands(program: Command, io: CliIo): void {
  const spec = program
    .command('spec')
    .description('Check, render and fingerprint model specs (YAML, JSON or Markdown)');

  spec
    .command('lint <files...>')
    .description('Report errors and method warnings as file:line:col severity code message')
    .option('--format <format>', 'human or json', choice(LINT_FORMATS), 'human')
    .option('--strict', 'fail on warnings too')
    .action(async (files: string[], options: { format: string; strict?: boolean }) => {
      const results: LintFileResult[] = [];
      for (const file of files) {
        const result = await lintSpecFile(path.resolve(io.cwd, file), { displayName: file });
        results.push({ ...result, file });
      }
      const all = results.flatMap((result) => result.diagnostics);
      const errors = all.filter((diagnostic) => diagnostic.severity === 'error').length;
      const warnings = all.length - errors;
      if (options.format === 'json') {
        const report = results.map((result) => ({
          file: result.file,
          diagnostics: result.diagnostics,
        }));
        io.stdout.write(`${JSON.stringify({ errors, warnings, files: report }, null, 2)}\n`);
      } else {
        for (const result of results) {
          for (const diagnostic of result.diagnostics) {
            io.stdout.write(`${formatDiagnostic(result.file, diagnostic)}\n`);
          }
        }
        io.stderr.write(
          `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}\n`,
        );
      }
      const failed = errors > 0 || (options.strict === true && warnings > 0);
      if (failed) throw new CliExit(1);
    });

  spec
    .command('show <file>')
    .description('Render the spec canonically, with template variables filled in')
    .option('--format <format>', 'markdown, json or yaml', choice(SHOW_FORMATS), 'markdown')
    .option('--var <name=value>', 'value of a template variable (repeatable)', collectVariable, {})
    .option('--keep-variables', 'leave {placeholders} as written')
    .action(
      async (
        file: string,
        options: { format: string; var: Record<string, string>; keepVariables?: boolean },
      ) => {
        const loaded = await loadValid(io, file);
        const rendered = options.keepVariables ? loaded : renderSpec(loaded, options.var);
        const render =
          options.format === 'json'
            ? renderJson
            : options.format === 'yaml'
              ? renderYaml
              : renderMarkdown;
        io.stdout.write(render(rendered));
      },
    );

  spec
    .command('schema')
    .description('Print the JSON Schema of the spec format (for editors and other tools)')
    .action(() => {
      io.stdout.write(`${JSON.stringify(specJsonSchema(), null, 2)}\n`);
    });

  spec
    .command('fingerprint <file>')
    .description('Print a content hash of the spec that ignores formatting')
    .action(async (file: string) => {
      const loaded = await loadValid(io, file);
      io.stdout.write(`${fingerprintSpec(loaded)}\n`);
    });
}

async function loadValid(io: CliIo, file: string) {
  const loaded = await loadSpec(path.resolve(io.cwd, file), { displayName: file });
  assertNoLintErrors(loaded.spec, { locate: loaded.locate, file });
  return loaded.spec;
}

export function formatDiagnostic(file: string, diagnostic: LintDiagnostic): string {
  const where = `${file}:${diagnostic.line ?? 1}:${diagnostic.column ?? 1}`;
  return `${where} ${diagnostic.severity} ${diagnostic.code} ${diagnostic.message}`;
}

function choice(allowed: readonly string[]) {
  return (value: string): string => {
    if (!allowed.includes(value)) {
      throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}`);
    }
    return value;
  };
}

function collectVariable(value: string, previous: Record<string, string>): Record<string, string> {
  const equals = value.indexOf('=');
  if (equals <= 0) throw new InvalidArgumentError(`expected name=value, got "${value}"`);
  return { ...previous, [value.slice(0, equals)]: value.slice(equals + 1) };
}
