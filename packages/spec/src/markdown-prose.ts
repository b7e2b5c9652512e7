import {
  blocksToText,
  type ListItem,
  type MarkdownBlock,
  type MarkdownHeading,
  slugify,
} from './markdown-blocks.js';
import {
  CONFLICTS_SECTION,
  emptyBody,
  FRAMING_SECTION,
  type MarkdownBody,
  PrincipleBuilder,
  VALUES_SECTION,
} from './markdown-body.js';
import { sectionPath, singleTopHeading } from './markdown-headings.js';
import { readValue } from './markdown-rule-list.js';
import type { PositionTable } from './source-position.js';

/** `SP1: Title`, `GP2. Title`, `**H3** — Title`: an id (letters then a digit) before the title. */
const HEADING_LABEL =
  /^\*{0,2}([A-Za-z][A-Za-z_-]*\d[A-Za-z0-9._-]*)\*{0,2}\s*[:.)\u2013\u2014-]\*{0,2}\s+(.+)$/;
/** `Principle 3: Title`, `Rule 2. Title`: a numbered principle heading, id `principle-3`. */
const HEADING_NUMBERED =
  /^(principle|rule|article|value|guideline|directive|commandment|law|tenet)\s+(\d+[a-z]?)\s*[:.)\u2013\u2014-]\s+(.+)$/i;
/** Leading section numbers (`1.`, `2.3`, `4)`), which are not part of a title. */
const NUMBERING = /^\d+(\.\d+)*[.)]?\s+(?=\S)/;

/** A list item that names itself: `**Title:** text`, `**Title.** text`, `SP1: text`. */
const ITEM_TITLE = /^\*\*([^*]{1,80}?)[:.]?\*\*[:.]?\s+(.+)$/s;
const ITEM_LABEL = /^\*{0,2}([A-Za-z][A-Za-z_-]*\d[A-Za-z0-9._-]*)\*{0,2}\s*:\*{0,2}\s+(.+)$/s;
/** Headings under which a list is a list of principles, one per item (older constitutions). */
const PRINCIPLE_LIST =
  /\b(principles?|rules?|constitution|commandments|guidelines|constraints|directives|laws|tenets|norms|core values)\b/i;

interface Section {
  heading: MarkdownHeading;
  label?: { id: string; title: string };
  /** Blocks up to the next heading. */
  content: MarkdownBlock[];
  /** No deeper heading follows before the next heading at this level or above. */
  leaf: boolean;
}

/**
 * Reads a spec written as prose: headings and paragraphs, no `- ID:` rule bullets and no `{#id}`
 * anchors. Principles are, in order of preference: headings with an explicit label (`### SP1: Title`,
 * every heading under them belonging to them); else every leaf section with content that is not
 * framing (overview, structure, definitions…), its id a slug of its title; a section titled like a
 * list of principles whose body is mostly a list gives one principle per item, and so does a file
 * with no headings whose body is mostly a numbered list. Framing and parent sections' own text go
 * to the preamble under their heading, so nothing is dropped.
 */
export function readProse(
  markdownBlocks: readonly MarkdownBlock[],
  table: PositionTable,
): MarkdownBody {
  const blocks = withBoldHeadings(markdownBlocks);
  const body = emptyBody();
  const titleLevel = singleTopHeading(blocks);
  let rest = blocks;
  const first = blocks[0];
  if (first?.type === 'heading' && first.heading.level === titleLevel) {
    body.title = first.heading.text;
    table.set(['title'], { line: first.heading.line, column: 1 });
    rest = blocks.slice(1);
  }
  const intro: MarkdownBlock[] = [];
  const sections: Section[] = [];
  for (const block of rest) {
    if (block.type === 'heading') {
      const label = readHeadingLabel(block.heading.text);
      sections.push({
        heading: block.heading,
        ...(label ? { label } : {}),
        content: [],
        leaf: true,
      });
    } else (sections.at(-1)?.content ?? intro).push(block);
  }
  sections.forEach((section, index) => {
    const next = sections[index + 1];
    section.leaf = !next || next.heading.level <= section.heading.level;
  });
  const ids = new Set<string>();
  const uniqueId = (wanted: string) => {
    let id = wanted;
    for (let n = 2; ids.has(id); n++) id = `${wanted}-${n}`;
    ids.add(id);
    return id;
  };
  const newPrinciple = (
    draft: { id: string; title?: string; section?: string },
    at: { line: number; column: number },
  ) => {
    const path = ['principles', body.principles.length];
    table.set(path, at);
    table.set([...path, 'id'], at);
    return new PrincipleBuilder(
      { ...draft, statement: '', subRules: [], examples: [] },
      path,
      table,
    );
  };
  const toPreamble = (heading: string | undefined, content: readonly MarkdownBlock[]) => {
    if (content.length === 0) return;
    if (heading !== undefined) body.preamble.push(`**${heading}**`);
    body.preamble.push(blocksToText(content));
  };

  if (sections.length === 0) {
    readWithoutHeadings(intro);
    return body;
  }
  toPreamble(undefined, intro);
  const labelled = sections.some((section) => section.label !== undefined);
  const stack: MarkdownHeading[] = [];
  let owner: { level: number; builder: PrincipleBuilder } | undefined;
  const finish = () => {
    if (owner) {
      const draft = owner.builder.finish();
      // A section that is only a list (`## Likes` and its bullets) states its title.
      if (draft.statement === '' && draft.title) draft.statement = draft.title;
      body.principles.push(draft);
    }
    owner = undefined;
  };
  for (const section of sections) {
    const { heading } = section;
    if (owner && heading.level > owner.level) {
      owner.builder.add({ type: 'heading', heading, line: heading.line });
      for (const block of section.content) owner.builder.add(block);
      continue;
    }
    finish();
    while (stack.length > 0 && (stack.at(-1)?.level ?? 0) >= heading.level) stack.pop();
    const where = { line: heading.line, column: 1 };
    if (VALUES_SECTION.test(heading.text) && section.content.some((b) => b.type === 'list')) {
      for (const block of section.content) {
        if (block.type === 'list') for (const item of block.items) readValue(item, body, table);
        else toPreamble(heading.text, [block]);
      }
      stack.push(heading);
      continue;
    }
    if (CONFLICTS_SECTION.test(heading.text)) {
      if (section.content.length > 0) body.conflictResolution.push(blocksToText(section.content));
      stack.push(heading);
      continue;
    }
    const isPrinciple = labelled
      ? section.label !== undefined
      : section.leaf && section.content.length > 0 && !FRAMING_SECTION.test(heading.text);
    if (isPrinciple && !labelled && isPrincipleList(heading.text, section.content)) {
      readPrincipleList(section.content, heading.text, sectionPath([...stack, heading]));
      stack.push(heading);
      continue;
    }
    if (!isPrinciple) {
      toPreamble(heading.text, section.content);
      stack.push(heading);
      continue;
    }
    const plain = heading.text.replace(NUMBERING, '');
    const id = uniqueId(section.label?.id ?? slugify(plain));
    const title = section.label?.title ?? plain;
    owner = {
      level: heading.level,
      builder: newPrinciple(
        { id, ...(title === '' ? {} : { title }), section: sectionPath(stack) },
        where,
      ),
    };
    for (const block of section.content) owner.builder.add(block);
  }
  finish();
  return body;

  function readWithoutHeadings(content: readonly MarkdownBlock[]): void {
    // A numbered list, or any list in a file titled as principles, is one principle per item.
    const numbered = content.some((block) => block.type === 'list' && block.ordered === true);
    const name = numbered ? 'principles' : (body.title ?? '');
    if (isPrincipleList(name, content)) {
      readPrincipleList(content, body.title ?? 'principle', undefined);
    }
  }

  function readPrincipleList(
    content: readonly MarkdownBlock[],
    sectionName: string,
    section: string | undefined,
  ): void {
    let n = 0;
    for (const block of content) {
      if (block.type !== 'list') {
        toPreamble(section ?? body.title, [block]);
        continue;
      }
      for (const item of block.items) {
        n++;
        const labelMatch = ITEM_LABEL.exec(item.text);
        const titleMatch = labelMatch ? undefined : ITEM_TITLE.exec(item.text);
        const title = titleMatch?.[1]?.trim();
        const id = uniqueId(
          labelMatch?.[1] ?? (title ? slugify(title) : `${slugify(sectionName)}-${n}`),
        );
        const builder = newPrinciple(
          { id, ...(title ? { title } : {}), ...(section ? { section } : {}) },
          { line: item.line, column: item.column },
        );
        const statement = labelMatch?.[2] ?? titleMatch?.[2] ?? item.text;
        builder.add({ type: 'paragraph', text: statement, line: item.line });
        for (const child of item.children) builder.addItem(child as ListItem);
        body.principles.push(builder.finish());
      }
    }
  }
}

/**
 * In a file with no headings below its title, a paragraph that is only a bold line (`**Honesty**`)
 * is used as a heading, as plain-text specs often do.
 */
function withBoldHeadings(blocks: readonly MarkdownBlock[]): readonly MarkdownBlock[] {
  const headings = blocks.filter((block) => block.type === 'heading');
  if (headings.length > 1 || (headings.length === 1 && blocks[0]?.type !== 'heading')) {
    return blocks;
  }
  return blocks.map((block) => {
    const bold =
      block.type === 'paragraph' ? /^\*\*([^*\n]{1,80}?):?\*\*:?$/.exec(block.text) : null;
    if (!bold) return block;
    const heading = { level: 2, text: (bold[1] ?? '').trim(), attributes: {}, line: block.line };
    return { type: 'heading' as const, heading, line: block.line };
  });
}

function readHeadingLabel(text: string): { id: string; title: string } | undefined {
  const label = HEADING_LABEL.exec(text);
  if (label) return { id: label[1] ?? '', title: (label[2] ?? '').trim() };
  const numbered = HEADING_NUMBERED.exec(text);
  if (numbered) {
    return {
      id: `${(numbered[1] ?? '').toLowerCase()}-${(numbered[2] ?? '').toLowerCase()}`,
      title: (numbered[3] ?? '').trim(),
    };
  }
  return undefined;
}

/** Mostly a list (by text), with at least two items, under a heading that names principles. */
function isPrincipleList(title: string, content: readonly MarkdownBlock[]): boolean {
  if (!PRINCIPLE_LIST.test(title)) return false;
  let listed = 0;
  let items = 0;
  let other = 0;
  for (const block of content) {
    const size = blocksToText([block]).length;
    if (block.type === 'list') {
      listed += size;
      items += block.items.length;
    } else other += size;
  }
  return items >= 2 && listed >= other;
}
