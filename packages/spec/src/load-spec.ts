import { readFile, stat } from 'node:fs/promises';
import type { z } from 'zod';
import { parseMarkdownDocument } from './parse-markdown.js';
import { type ParsedDocument, parseJsonDocument, parseYamlDocument } from './parse-structured.js';
import { type Locate, locateNearest } from './source-position.js';
import { SpecError, type SpecIssue } from './spec-error.js';
import { type Spec, SpecSchema } from './spec-schema.js';

export type SpecFormat = 'yaml' | 'json' | 'markdown';

export interface LoadedSpec {
  spec: Spec;
  format: SpecFormat;
  /** The file it came from, as given. */
  file?: string;
  /** Maps a property path to its line and column in the source. */
  locate: Locate;
  /** The text it was read from (diagnostics that search the text report lines in it). */
  source?: string;
  /** Markdown or plain text with no front matter: its `{placeholders}` are detected, not declared. */
  placeholdersDetected?: boolean;
}

export interface ParseSpecOptions {
  format: SpecFormat;
  /** Used in error messages only. */
  file?: string;
  /**
   * Authority levels, highest first, for a Markdown spec whose principles carry `authority=` levels:
   * overrides the front matter and the order inferred from the document.
   */
  authorityLevels?: readonly string[];
}

export interface LoadSpecOptions {
  /** Overrides detection from the file extension. */
  format?: SpecFormat;
  /** Larger files are refused; default 5 MiB. */
  maxBytes?: number;
  /** How messages name the file (e.g. the path as the user typed it); default `file`. */
  displayName?: string;
  /** See ParseSpecOptions.authorityLevels. */
  authorityLevels?: readonly string[];
}

export const DEFAULT_MAX_SPEC_BYTES = 5 * 1024 * 1024;

/** Parses and validates spec text; throws a SpecError listing every problem with its location. */
export function parseSpec(text: string, options: ParseSpecOptions): LoadedSpec {
  const { data, locate } = parseRaw(text, options);
  const spec = validateSpecData(data, { locate, file: options.file });
  const placeholdersDetected = options.format === 'markdown' && !/^\s*---\s*\n/.test(text);
  return {
    spec,
    format: options.format,
    file: options.file,
    locate,
    source: text,
    placeholdersDetected,
  };
}

/** Validates an already parsed object against the spec schema. */
export function validateSpecData(
  data: unknown,
  options: { locate?: Locate; file?: string } = {},
): Spec {
  const result = SpecSchema.safeParse(data);
  if (result.success) return result.data;
  const locate = options.locate ?? (() => undefined);
  const issues = result.error.issues.flatMap((issue) => toSpecIssues(issue, locate));
  throw new SpecError({
    code: 'spec/invalid',
    message: `invalid spec: ${issues.length} problem${issues.length === 1 ? '' : 's'}`,
    issues,
    file: options.file,
  });
}

function toSpecIssues(issue: z.core.$ZodIssue, locate: Locate): SpecIssue[] {
  const path = issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key));
  const withPosition = (at: (string | number)[], message: string): SpecIssue => ({
    path: at,
    message,
    ...locateNearest(locate, at),
  });
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => withPosition([...path, key], `unknown field "${key}"`));
  }
  return [withPosition(path, issue.message)];
}

function parseRaw(text: string, options: ParseSpecOptions): ParsedDocument {
  switch (options.format) {
    case 'json':
      return parseJsonDocument(text, options.file);
    case 'yaml':
      return parseYamlDocument(text, options.file);
    case 'markdown':
      return parseMarkdownDocument(text, options.file, {
        ...(options.authorityLevels ? { authorityLevels: options.authorityLevels } : {}),
      });
  }
}

/** Reads a spec file (YAML, JSON or Markdown), refusing binary and oversized files. */
export async function loadSpec(file: string, options: LoadSpecOptions = {}): Promise<LoadedSpec> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_SPEC_BYTES;
  const name = options.displayName ?? file;
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) {
      throw new SpecError({ code: 'spec/file-unreadable', message: `${name} is not a file` });
    }
    size = info.size;
  } catch (error) {
    if (SpecError.isInstance(error)) throw error;
    throw new SpecError({
      code: 'spec/file-unreadable',
      message: `cannot read ${name}: ${describeFsError(error)}`,
      cause: error,
    });
  }
  if (size > maxBytes) {
    throw new SpecError({
      code: 'spec/file-refused',
      message: `${name} is ${size} bytes; spec files are limited to ${maxBytes} bytes`,
    });
  }
  const bytes = await readFile(file);
  const text = decodeText(bytes, name);
  return parseSpec(text, {
    format: options.format ?? detectFormat(file, text),
    file: name,
    ...(options.authorityLevels ? { authorityLevels: options.authorityLevels } : {}),
  });
}

/** Decodes UTF-8 text; a NUL byte or invalid UTF-8 means the file is not a text spec. */
export function decodeText(bytes: Uint8Array, file?: string): string {
  const refuse = () =>
    new SpecError({
      code: 'spec/file-refused',
      message: `${file ?? 'input'} looks like a binary file, not a spec (YAML, JSON or Markdown text)`,
    });
  if (bytes.includes(0)) throw refuse();
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    throw refuse();
  }
}

/**
 * By extension (`.txt` is read as Markdown: published specs are plain text with Markdown headings
 * and bullets); otherwise by content (a leading `{` is JSON, a `#` heading is Markdown).
 */
export function detectFormat(file: string, text: string): SpecFormat {
  const lower = file.toLowerCase();
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return 'yaml';
  if (lower.endsWith('.md') || lower.endsWith('.markdown') || lower.endsWith('.txt')) {
    return 'markdown';
  }
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) return 'json';
  if (/^#{1,6}\s/m.test(text)) return 'markdown';
  return 'yaml';
}

function describeFsError(error: unknown): string {
  const code = (error as { code?: string } | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  return error instanceof Error ? error.message : String(error);
}
