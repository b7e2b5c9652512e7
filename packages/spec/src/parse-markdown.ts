import { findFrontMatter, readBlocks, slugify } from './markdown-blocks.js';
import type { MarkdownBody } from './markdown-body.js';
import { readHeadings } from './markdown-headings.js';
import { readRuleList } from './markdown-rule-list.js';
import { type ParsedDocument, parseYamlDocument } from './parse-structured.js';
import { type Locate, PositionTable } from './source-position.js';
import { SpecError } from './spec-error.js';

export type MarkdownDialect = 'rule-list' | 'headings';

/**
 * Reads a Markdown spec into the plain object the schema validates. Optional YAML front matter holds
 * what prose cannot (id, version, variables, principals, entities); the body is either a rule list or
 * heading-based (detected: any `{#id}` heading anchor means heading-based).
 */
export function parseMarkdownDocument(
  text: string,
  file?: string,
): ParsedDocument & { dialect: MarkdownDialect } {
  const lines = text.split(/\r?\n/);
  const frontMatter = findFrontMatter(lines);
  if (!frontMatter && (lines[0] ?? '').trim() === '---')
    throw new SpecError({
      code: 'spec/syntax',
      message: 'Markdown front matter opened on line 1 is never closed',
      issues: [
        {
          path: [],
          message: 'add a closing "---" line after the front matter',
          line: 1,
          column: 1,
        },
      ],
      file,
    });
  let front: ParsedDocument | undefined;
  if (frontMatter) {
    // Pad with blank lines so positions reported by the YAML parser are positions in the file.
    const padded = `${'\n'.repeat(frontMatter.firstLine - 1)}${frontMatter.text}`;
    front = parseYamlDocument(padded, file);
    if (front.data !== null && (typeof front.data !== 'object' || Array.isArray(front.data))) {
      throw new SpecError({
        code: 'spec/syntax',
        message: 'Markdown front matter must be a YAML mapping',
        issues: [{ path: [], message: 'expected key: value lines', line: 2, column: 1 }],
        file,
      });
    }
  }
  const bodyStart = frontMatter?.bodyStart ?? 0;
  const blocks = readBlocks(lines.slice(bodyStart), bodyStart + 1);
  const table = new PositionTable();
  const dialect: MarkdownDialect = blocks.some(
    (block) => block.type === 'heading' && block.heading.anchor !== undefined,
  )
    ? 'headings'
    : 'rule-list';
  const body = dialect === 'headings' ? readHeadings(blocks, table) : readRuleList(blocks, table);
  if (body.principles.length === 0) {
    throw new SpecError({
      code: 'spec/no-principles',
      message:
        'no principles found in this Markdown: write rules as `- ID: statement` bullets ' +
        '(e.g. `- SP1: Support human oversight.`) or as headings with anchors ' +
        '(e.g. `## Support human oversight {#SP1}`)',
      file,
    });
  }
  const data = merge((front?.data ?? {}) as Record<string, unknown>, body, file);
  const locate: Locate = (path) => table.locate(path) ?? front?.locate(path);
  return { data, locate, dialect };
}

function merge(front: Record<string, unknown>, body: MarkdownBody, file?: string): unknown {
  const title = body.title ?? front.title ?? fileBase(file);
  const preamble = { ...((front.preamble as Record<string, unknown> | undefined) ?? {}) };
  if (body.preamble.length > 0) preamble.text = body.preamble.join('\n\n');
  if (body.conflictResolution.length > 0) {
    preamble.conflictResolution = body.conflictResolution.join('\n\n');
  }
  const fallbackId = typeof title === 'string' ? slugify(title) : fileStem(file);
  return {
    ...front,
    id: front.id ?? fallbackId,
    title,
    version: front.version === undefined ? '0.0.0' : String(front.version),
    preamble,
    ...(body.values.length > 0 ? { values: body.values } : {}),
    principles: body.principles.map((principle) =>
      Object.fromEntries(Object.entries(principle).filter(([, value]) => value !== undefined)),
    ),
  };
}

function fileBase(file: string | undefined): string | undefined {
  if (!file) return undefined;
  const base = file.split(/[\\/]/).at(-1) ?? file;
  return base.replace(/\.[^.]*$/, '');
}

function fileStem(file: string | undefined): string | undefined {
  const base = fileBase(file);
  return base === undefined ? undefined : slugify(base);
}
