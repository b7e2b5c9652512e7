import { inferAuthorityLevels } from './authority-levels.js';
import { findFrontMatter, type MarkdownBlock, readBlocks, slugify } from './markdown-blocks.js';
import type { MarkdownBody } from './markdown-body.js';
import { titleCrossReferences } from './markdown-cross-references.js';
import { readHeadings } from './markdown-headings.js';
import { readProse } from './markdown-prose.js';
import { readRuleList } from './markdown-rule-list.js';
import { type ParsedDocument, parseYamlDocument } from './parse-structured.js';
import { type Locate, PositionTable } from './source-position.js';
import { SpecError } from './spec-error.js';

export type MarkdownDialect = 'rule-list' | 'headings' | 'authority-headings' | 'prose';

export interface ParseMarkdownOptions {
  /** Authority levels, highest first; overrides the front matter and what the document says. */
  authorityLevels?: readonly string[];
}

/**
 * Reads a Markdown spec into the plain object the schema validates. Optional YAML front matter holds
 * what prose cannot (id, version, variables, principals, entities); the body is either a rule list or
 * heading-based (detected: any `{#id}` heading anchor means heading-based).
 */
export function parseMarkdownDocument(
  text: string,
  file?: string,
  options: ParseMarkdownOptions = {},
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
  const headings = blocks.flatMap((block) => (block.type === 'heading' ? [block.heading] : []));
  let dialect: MarkdownDialect;
  let body: MarkdownBody;
  if (!frontMatter && headings.some((heading) => heading.attributes.authority !== undefined)) {
    // OpenAI's style: `{#id authority=…}` marks the principles; other anchored sections frame them.
    dialect = 'authority-headings';
    body = readHeadings(blocks, table, { authorityOnly: true });
    titleCrossReferences(body, headings);
  } else if (headings.some((heading) => heading.anchor !== undefined)) {
    dialect = 'headings';
    body = readHeadings(blocks, table, { skipFraming: !frontMatter });
    titleCrossReferences(body, headings);
  } else {
    dialect = 'rule-list';
    body = readRuleList(blocks, table);
    if (body.principles.length === 0) {
      dialect = 'prose';
      body = readProse(blocks, table);
    }
  }
  if (body.principles.length === 0) {
    throw new SpecError({
      code: 'spec/no-principles',
      message:
        'no principles found in this text: write rules as `- ID: statement` bullets ' +
        '(e.g. `- SP1: Support human oversight.`), as headings (`### SP1: Support human ' +
        'oversight`, or `## Support human oversight {#SP1}`), or as sections of prose under headings',
      file,
    });
  }
  const frontData = (front?.data ?? {}) as Record<string, unknown>;
  const levels = authorityLevelsFor(body, blocks, options, frontMatter !== undefined);
  const data = merge(frontData, body, file, levels);
  const locate: Locate = (path) => table.locate(path) ?? front?.locate(path);
  return { data, locate, dialect };
}

/**
 * The authority levels to set, highest first: as given by the caller; else, in a document with no
 * front matter whose principles carry levels, inferred from the document; else none (the front
 * matter's, if any, stand).
 */
function authorityLevelsFor(
  body: MarkdownBody,
  blocks: readonly MarkdownBlock[],
  options: ParseMarkdownOptions,
  hasFrontMatter: boolean,
): string[] | undefined {
  if (options.authorityLevels && options.authorityLevels.length > 0) {
    return [...options.authorityLevels];
  }
  // Front matter is where a spec declares its levels: only a document with none is inferred from.
  if (hasFrontMatter) return undefined;
  const used = body.principles.flatMap((principle) =>
    principle.authority === undefined ? [] : [principle.authority],
  );
  return used.length === 0 ? undefined : inferAuthorityLevels(used, blocks);
}

function merge(
  front: Record<string, unknown>,
  body: MarkdownBody,
  file: string | undefined,
  authorityLevels: string[] | undefined,
): unknown {
  const title = body.title ?? front.title ?? fileBase(file) ?? 'Untitled spec';
  const preamble = { ...((front.preamble as Record<string, unknown> | undefined) ?? {}) };
  if (authorityLevels) preamble.authorityLevels = authorityLevels;
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
