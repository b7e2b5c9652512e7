import path from 'node:path';
import {
  assertNoLintErrors,
  fingerprintSpec,
  formatLintSummary,
  type LintDiagnostic,
  type LintFileResult,
  lintSpecFile,
  loadSpec,
  parseSpec,
  renderJson,
  renderMarkdown,
  renderRuleList,
  renderSpec,
  renderYaml,
  type Spec,
  specJsonSchema,
  summarizeLint,
  unusedValues,
} from '@midspec/spec';
import { type Command, InvalidArgumentError } from 'commander';
import { CliExit } from './cli-exit.js';
import type { CliIo } from './cli-io.js';
import { printResult, withJsonOption } from './json-output.js';

const SHOW_FORMATS = ['markdown', 'rule-list', 'json', 'yaml'] as const;

const AUTHORITY_HELP =
  'authority levels, highest first, comma-separated (e.g. root,system,developer,user,guideline): ' +
  "for specs whose sections carry authority= annotations; default: the document's own list of " +
  'levels, or the usual order';

export function registerSpecCommands(program: Command, io: CliIo): void {
  const spec = program
    .command('spec')
    .description(
      'Check, render and fingerprint model specs: YAML, JSON, or Markdown/plain text as published ' +
        '(rule lists such as `- SP1: …`, `### SP1: Title` headings, prose sections, numbered ' +
        'principle lists, OpenAI-style `{#id authority=…}` sections with **Example** transcripts)',
    );

  withJsonOption(spec.command('lint <files...>'))
    .description(
      'Report errors and method warnings as file:line:col severity code message, then a summary ' +
        'per spec: principles, sub-rules, examples, share explained, share with examples, vague ' +
        'statements, unresolved conflicts',
    )
    .option('--strict', 'fail on warnings too')
    .option('--authority-levels <levels>', AUTHORITY_HELP, parseLevels)
    .action(
      async (
        files: string[],
        options: { json?: boolean; strict?: boolean; authorityLevels?: string[] },
      ) => {
        const results: LintFileResult[] = [];
        for (const file of files) {
          const result = await lintSpecFile(path.resolve(io.cwd, file), {
            displayName: file,
            ...(options.authorityLevels ? { authorityLevels: options.authorityLevels } : {}),
          });
          results.push({ ...result, file });
        }
        const all = results.flatMap((result) => result.diagnostics);
        const errors = all.filter((diagnostic) => diagnostic.severity === 'error').length;
        const warnings = all.length - errors;
        if (options.json) {
          const report = results.map((result) => ({
            file: result.file,
            diagnostics: result.diagnostics,
            ...(result.spec ? { summary: summarizeLint(result.spec, result.diagnostics) } : {}),
          }));
          io.stdout.write(`${JSON.stringify({ errors, warnings, files: report }, null, 2)}\n`);
        } else {
          for (const result of results) {
            for (const diagnostic of result.diagnostics) {
              io.stdout.write(`${formatDiagnostic(result.file, diagnostic)}\n`);
            }
            if (result.spec) {
              const summary = summarizeLint(result.spec, result.diagnostics);
              io.stderr.write(`${result.file}: ${formatLintSummary(summary)}\n`);
            }
          }
          io.stderr.write(
            `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}\n`,
          );
        }
        const failed = errors > 0 || (options.strict === true && warnings > 0);
        if (failed) throw new CliExit(1);
      },
    );

  spec
    .command('show <file>')
    .description('Render the spec canonically, with template variables filled in')
    .option(
      '--format <format>',
      'markdown (canonical, heading-based), rule-list (`- ID: statement` bullets), json or yaml',
      choice(SHOW_FORMATS),
      'markdown',
    )
    .option(
      '--var <name=value>',
      'value of a template variable such as {model_name}, declared or detected in the text (repeatable)',
      collectVariable,
      {},
    )
    .option('--keep-variables', 'leave {placeholders} as written')
    .option('--authority-levels <levels>', AUTHORITY_HELP, parseLevels)
    .action(
      async (
        file: string,
        options: {
          format: string;
          var: Record<string, string>;
          keepVariables?: boolean;
          authorityLevels?: string[];
        },
      ) => {
        const loaded = await loadValid(io, file, options.authorityLevels);
        const rendered = options.keepVariables ? loaded : renderSpec(loaded, options.var);
        for (const name of options.keepVariables ? [] : unusedValues(loaded, options.var)) {
          io.stderr.write(
            `warning: --var ${name}: ${file} neither declares nor uses {${name}}; nothing replaced\n`,
          );
        }
        const render =
          options.format === 'json'
            ? renderJson
            : options.format === 'yaml'
              ? renderYaml
              : options.format === 'rule-list'
                ? renderRuleList
                : renderMarkdown;
        const text = render(rendered);
        io.stdout.write(text);
        if (options.format === 'rule-list') {
          const lost = ruleListLoss(rendered, text);
          if (lost) io.stderr.write(`warning: ${file}: ${lost}\n`);
        }
      },
    );

  spec
    .command('schema')
    .description('Print the JSON Schema of the spec format (for editors and other tools)')
    .action(() => {
      io.stdout.write(`${JSON.stringify(specJsonSchema(), null, 2)}\n`);
    });

  withJsonOption(spec.command('fingerprint <file>'))
    .description('Print a content hash of the spec that ignores formatting')
    .action(async (file: string, options: { json?: boolean }) => {
      const fingerprint = fingerprintSpec(await loadValid(io, file));
      printResult(io, options, { file, fingerprint }, () => `${fingerprint}\n`);
    });
}

async function loadValid(io: CliIo, file: string, authorityLevels?: string[]) {
  const loaded = await loadSpec(path.resolve(io.cwd, file), {
    displayName: file,
    ...(authorityLevels ? { authorityLevels } : {}),
  });
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

function parseLevels(value: string): string[] {
  const levels = value
    .split(',')
    .map((level) => level.trim())
    .filter((level) => level !== '');
  const bad = levels.find((level) => !/^[A-Za-z][A-Za-z0-9_.-]*$/.test(level));
  if (levels.length === 0 || bad !== undefined) {
    throw new InvalidArgumentError(
      `expected comma-separated level names such as root,developer,user${bad ? `, got "${bad}"` : ''}`,
    );
  }
  return levels;
}

function collectVariable(value: string, previous: Record<string, string>): Record<string, string> {
  const equals = value.indexOf('=');
  if (equals <= 0) throw new InvalidArgumentError(`expected name=value, got "${value}"`);
  return { ...previous, [value.slice(0, equals)]: value.slice(equals + 1) };
}

/**
 * A rule list has no place for everything a spec can hold (ids without a digit, sections of prose):
 * says what the rule list written for `spec` reads back as, when that is not the same rules.
 */
function ruleListLoss(spec: Spec, text: string): string | undefined {
  const shape = (s: Spec) =>
    s.principles.map((p) => `${p.id}:${p.subRules.length}:${p.examples.length}`).join(' ');
  let back: Spec | undefined;
  try {
    back = parseSpec(text, { format: 'markdown' }).spec;
  } catch {
    back = undefined;
  }
  if (back && shape(back) === shape(spec)) return undefined;
  const read = back ? `${back.principles.length} principles` : 'no spec';
  return (
    `this rule list reads back as ${read}, not the ${spec.principles.length} principles written ` +
    '(rule ids need a digit, and a rule list has no place for sections of prose); ' +
    'use --format markdown to keep everything'
  );
}
