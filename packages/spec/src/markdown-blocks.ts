// A small Markdown block reader: just enough structure (headings with attributes, paragraphs, nested
// lists, block quotes, fenced code) for the spec importers, with the line of everything it returns.

export interface MarkdownHeading {
  level: number;
  text: string;
  /** From a trailing `{#id key=value}` attribute block, as in heading-based specs. */
  anchor?: string;
  attributes: Record<string, string>;
  line: number;
}

export interface ListItem {
  text: string;
  line: number;
  column: number;
  /** Written with a number (`1.`, `2)`): its place in the list carries meaning. */
  ordered: boolean;
  children: ListItem[];
}

export type MarkdownBlock =
  | { type: 'heading'; heading: MarkdownHeading; line: number }
  | { type: 'paragraph'; text: string; line: number }
  | { type: 'list'; items: ListItem[]; line: number; ordered?: boolean }
  | { type: 'quote'; lines: string[]; line: number }
  | { type: 'code'; text: string; line: number }
  /** `!!! meta "Commentary"` followed by indented lines (the admonition syntax of MkDocs). */
  | { type: 'note'; title: string; text: string; line: number };

const HEADING = /^(#{1,6})\s+(.*?)\s*$/;
const ATTRIBUTES = /\s*\{([^{}]*)\}\s*$/;
const LIST_MARKER = /^(\s*)([-*+]|\d+[.)])\s+(.*)$/;
const ADMONITION = /^!!!\s+(\w+)(?:\s+"([^"]*)")?\s*$/;
const FENCE = /^\s*(```|~~~)/;
const THEMATIC_BREAK = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/;
const SETEXT = /^\s{0,3}(=+|-+)\s*$/;

export function parseHeading(line: string, lineNumber: number): MarkdownHeading | undefined {
  const match = HEADING.exec(line);
  if (!match) return undefined;
  let text = (match[2] ?? '').replace(/\s+#+$/, '');
  const attributes: Record<string, string> = {};
  let anchor: string | undefined;
  const attributeMatch = ATTRIBUTES.exec(text);
  if (attributeMatch && /(^|\s)#/.test(attributeMatch[1] ?? '')) {
    text = text.slice(0, attributeMatch.index);
    for (const token of (attributeMatch[1] ?? '').trim().split(/\s+/)) {
      if (token.startsWith('#')) anchor = token.slice(1);
      else if (token.includes('=')) {
        const [key = '', ...rest] = token.split('=');
        attributes[key] = rest.join('=').replace(/^["']|["']$/g, '');
      }
    }
  }
  return {
    level: (match[1] ?? '').length,
    text: text.trim(),
    anchor,
    attributes,
    line: lineNumber,
  };
}

/** Splits lines (1-based numbering starting at `firstLine`) into blocks. */
export function readBlocks(lines: readonly string[], firstLine = 1): MarkdownBlock[] {
  const blocks: MarkdownBlock[] = [];
  let index = 0;
  const isBlank = (at: number) => (lines[at] ?? '').trim() === '';
  while (index < lines.length) {
    const line = lines[index] ?? '';
    const lineNumber = firstLine + index;
    if (line.trim() === '') {
      index++;
      continue;
    }
    const heading = parseHeading(line, lineNumber);
    if (heading) {
      blocks.push({ type: 'heading', heading, line: lineNumber });
      index++;
      continue;
    }
    const admonition = ADMONITION.exec(line);
    if (admonition) {
      const start = index;
      index++;
      const inner: string[] = [];
      while (index < lines.length && (isBlank(index) || /^(\s{4}|\t)/.test(lines[index] ?? ''))) {
        inner.push((lines[index] ?? '').trim());
        index++;
      }
      while (inner.length > 0 && inner.at(-1) === '') inner.pop();
      // Trailing blank lines belong to the gap after the block, not to it.
      while (index > start + 1 && isBlank(index - 1)) index--;
      blocks.push({
        type: 'note',
        title: admonition[2] || capitalize(admonition[1] ?? 'Note'),
        text: inner
          .join('\n')
          .split(/\n{2,}/)
          .map((part) => part.replace(/\s*\n\s*/g, ' ').trim())
          .filter((part) => part !== '')
          .join('\n\n'),
        line: lineNumber,
      });
      continue;
    }
    if (FENCE.test(line)) {
      const fence = FENCE.exec(line)?.[1] ?? '```';
      const start = index;
      index++;
      while (index < lines.length && !(lines[index] ?? '').trim().startsWith(fence)) index++;
      index = Math.min(index + 1, lines.length);
      blocks.push({ type: 'code', text: lines.slice(start, index).join('\n'), line: lineNumber });
      continue;
    }
    if (/^\s*>/.test(line)) {
      const quoted: string[] = [];
      while (index < lines.length && /^\s*>/.test(lines[index] ?? '')) {
        quoted.push((lines[index] ?? '').replace(/^\s*>\s?/, ''));
        index++;
      }
      blocks.push({ type: 'quote', lines: quoted, line: lineNumber });
      continue;
    }
    if (LIST_MARKER.test(line)) {
      const start = index;
      index++;
      // A list runs on through blank lines while the next line is indented or another item.
      while (index < lines.length) {
        const next = lines[index] ?? '';
        if (next.trim() === '') {
          let after = index + 1;
          while (after < lines.length && isBlank(after)) after++;
          const following = lines[after] ?? '';
          if (after < lines.length && (LIST_MARKER.test(following) || /^\s+\S/.test(following))) {
            index = after;
            continue;
          }
          break;
        }
        if (parseHeading(next, 0) || FENCE.test(next) || /^>/.test(next)) break;
        index++;
      }
      blocks.push({
        type: 'list',
        items: readList(lines.slice(start, index), firstLine + start),
        line: lineNumber,
        ordered: /^\s*\d/.test(line),
      });
      continue;
    }
    if (THEMATIC_BREAK.test(line)) {
      index++;
      continue;
    }
    const underline = SETEXT.exec(lines[index + 1] ?? '');
    if (underline && !LIST_MARKER.test(line)) {
      // `Title` over `=====` (level 1) or `-----` (level 2), as plain-text specs often write them.
      const marks = (underline[1] ?? '').startsWith('=') ? '#' : '##';
      const heading = parseHeading(`${marks} ${line.trim()}`, lineNumber);
      if (heading) blocks.push({ type: 'heading', heading, line: lineNumber });
      index += 2;
      continue;
    }
    const paragraph: string[] = [];
    while (index < lines.length) {
      const next = lines[index] ?? '';
      if (next.trim() === '' || parseHeading(next, 0) || FENCE.test(next) || /^\s*>/.test(next))
        break;
      if (paragraph.length > 0 && LIST_MARKER.test(next) && !/^\s/.test(next)) break;
      if (paragraph.length > 0 && SETEXT.test(lines[index + 1] ?? '')) break;
      paragraph.push(next.trim());
      index++;
    }
    // A table keeps its rows on their own lines; other paragraphs are reflowed onto one.
    const table = paragraph.every((row) => row.startsWith('|'));
    blocks.push({ type: 'paragraph', text: paragraph.join(table ? '\n' : ' '), line: lineNumber });
  }
  return blocks;
}

function readList(lines: readonly string[], firstLine: number): ListItem[] {
  const roots: ListItem[] = [];
  const stack: { indent: number; content: number; item: ListItem }[] = [];
  let afterBlank = false;
  lines.forEach((line, offset) => {
    if (line.trim() === '') {
      afterBlank = true;
      return;
    }
    const blank = afterBlank;
    afterBlank = false;
    const match = LIST_MARKER.exec(line);
    if (match) {
      const indent = (match[1] ?? '').length;
      const item: ListItem = {
        text: (match[3] ?? '').trim(),
        line: firstLine + offset,
        column: indent + 1,
        ordered: /^\d/.test(match[2] ?? ''),
        children: [],
      };
      while (stack.length > 0 && (stack.at(-1)?.indent ?? 0) >= indent) stack.pop();
      const parent = stack.at(-1);
      if (parent) parent.item.children.push(item);
      else roots.push(item);
      stack.push({ indent, content: indent + (match[2] ?? '').length + 1, item });
      return;
    }
    if (!blank) {
      // A lazy continuation line: the same paragraph as the item above.
      const current = stack.at(-1);
      if (current) current.item.text = `${current.item.text} ${line.trim()}`.trim();
      return;
    }
    // A paragraph after a blank line belongs to the deepest item its indentation reaches.
    const indent = (/^\s*/.exec(line)?.[0] ?? '').length;
    while (stack.length > 1 && (stack.at(-1)?.content ?? 0) > indent) stack.pop();
    const owner = stack.at(-1);
    if (owner) owner.item.text = `${owner.item.text}\n\n${line.trim()}`;
  });
  return roots;
}

/** Writes blocks back as Markdown text: paragraphs reflowed onto one line, lists and quotes kept. */
export function blocksToText(blocks: readonly MarkdownBlock[]): string {
  return blocks
    .map((block) => {
      switch (block.type) {
        case 'heading':
          return `**${block.heading.text}**`;
        case 'paragraph':
          return block.text;
        case 'list':
          return listToText(block.items);
        case 'quote':
          return block.lines.map((line) => (line === '' ? '>' : `> ${line}`)).join('\n');
        case 'code':
          return block.text;
        case 'note':
          return `**${block.title}:** ${block.text}`;
      }
      return '';
    })
    .join('\n\n');
}

/** Writes list items back as Markdown; numbered items keep their numbers (1., 2., …) and order. */
export function listToText(items: readonly ListItem[], indent = ''): string {
  return items
    .map((item, index) => {
      const marker = item.ordered ? `${index + 1}.` : '-';
      const inner = `${indent}${' '.repeat(marker.length + 1)}`;
      const own = `${indent}${marker} ${item.text.replace(/\n\n/g, `\n\n${inner}`)}`;
      if (item.children.length === 0) return own;
      return `${own}\n${listToText(item.children, `${indent}${' '.repeat(marker.length + 1)}`)}`;
    })
    .join('\n');
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

export interface FrontMatter {
  text: string;
  /** Line number of the first line inside the front matter. */
  firstLine: number;
  /** Index of the first body line. */
  bodyStart: number;
}

/** Finds a leading `---` YAML block. */
export function findFrontMatter(lines: readonly string[]): FrontMatter | undefined {
  if ((lines[0] ?? '').trim() !== '---') return undefined;
  for (let index = 1; index < lines.length; index++) {
    if ((lines[index] ?? '').trim() === '---') {
      return { text: lines.slice(1, index).join('\n'), firstLine: 2, bodyStart: index + 1 };
    }
  }
  return undefined;
}

/** `Cheese preferences` → `cheese-preferences` */
export function slugify(text: string): string {
  const slug = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return /^[a-z]/.test(slug) ? slug : `spec-${slug || 'untitled'}`;
}
