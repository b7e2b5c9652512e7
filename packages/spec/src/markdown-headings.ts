import { blocksToText, type MarkdownBlock, type MarkdownHeading } from './markdown-blocks.js';
import {
  CONFLICTS_SECTION,
  emptyBody,
  FRAMING_SECTION,
  type MarkdownBody,
  PRINCIPLES_SECTION,
  PrincipleBuilder,
  VALUES_SECTION,
} from './markdown-body.js';
import { splitList } from './markdown-labels.js';
import type { PositionTable } from './source-position.js';

type Context =
  | { kind: 'preamble' }
  | { kind: 'conflicts' }
  | { kind: 'value'; index: number }
  | { kind: 'principle'; builder: PrincipleBuilder; level: number };

/**
 * Reads a heading-based spec: `### Title {#id authority=user priority=2}`. An anchored heading is a
 * principle when it is a leaf (no anchored heading below it) or carries an authority or priority;
 * other headings are sections. Anchored headings under a `Values` heading are values.
 */
export function readHeadings(
  blocks: readonly MarkdownBlock[],
  table: PositionTable,
  options: { authorityOnly?: boolean; skipFraming?: boolean } = {},
): MarkdownBody {
  const body = emptyBody();
  const authorityOnly = options.authorityOnly === true;
  const titleLevel = singleTopHeading(blocks);
  const sections: MarkdownHeading[] = [];
  let context: Context = { kind: 'preamble' };
  let announced = true;
  const finish = () => {
    if (context.kind !== 'principle') return;
    const draft = context.builder.finish();
    // An OpenAI-style section made only of examples states its title.
    if (authorityOnly && draft.statement === '' && draft.title) draft.statement = draft.title;
    body.principles.push(draft);
  };
  const currentSection = () => sections.at(-1);
  const inValues = () => sections.some((heading) => VALUES_SECTION.test(heading.text));

  blocks.forEach((block, index) => {
    if (block.type !== 'heading') {
      addBlock(block);
      return;
    }
    const { heading } = block;
    if (
      context.kind === 'principle' &&
      heading.level > context.level &&
      (!heading.anchor || (authorityOnly && heading.attributes.authority === undefined))
    ) {
      // A heading inside a principle that is no principle itself: its text stays in the principle.
      context.builder.add(block);
      return;
    }
    finish();
    if (
      heading.level === titleLevel &&
      heading.level === 1 &&
      // In OpenAI's style a `# Chapter {#id}` is a chapter of the spec, not its title.
      !(authorityOnly && heading.anchor !== undefined) &&
      body.title === undefined &&
      body.principles.length === 0
    ) {
      body.title = heading.text;
      table.set(['title'], { line: heading.line, column: 1 });
      context = { kind: 'preamble' };
      return;
    }
    while (sections.length > 0 && (currentSection()?.level ?? 0) >= heading.level) sections.pop();
    if (heading.anchor && inValues()) {
      table.set(['values', body.values.length], { line: heading.line, column: 1 });
      body.values.push({ id: heading.anchor, name: heading.text, explanation: '' });
      context = { kind: 'value', index: body.values.length - 1 };
      return;
    }
    const principle = authorityOnly
      ? heading.anchor !== undefined && heading.attributes.authority !== undefined
      : heading.anchor !== undefined && isPrinciple(blocks, index, options.skipFraming === true);
    if (principle && heading.anchor) {
      const path = ['principles', body.principles.length];
      table.set(path, { line: heading.line, column: 1 });
      table.set([...path, 'id'], { line: heading.line, column: 1 });
      const sectionName = sectionPath(sections);
      const { priority, authority, tags } = heading.attributes;
      context = {
        kind: 'principle',
        level: heading.level,
        builder: new PrincipleBuilder(
          {
            id: heading.anchor,
            title:
              heading.text === heading.anchor || heading.text === '' ? undefined : heading.text,
            section: sectionName,
            statement: '',
            subRules: [],
            examples: [],
            ...(priority === undefined
              ? {}
              : { priority: /^\d+$/.test(priority) ? Number(priority) : priority }),
            ...(authority === undefined ? {} : { authority }),
            ...(tags === undefined ? {} : { tags: splitList(tags) }),
          },
          path,
          table,
        ),
      };
      return;
    }
    sections.push(heading);
    announced = VALUES_SECTION.test(heading.text) || PRINCIPLES_SECTION.test(heading.text);
    context = CONFLICTS_SECTION.test(heading.text) ? { kind: 'conflicts' } : { kind: 'preamble' };
    if (context.kind === 'conflicts') announced = true;
  });
  finish();
  return body;

  function addBlock(block: MarkdownBlock): void {
    const text = blocksToText([block]);
    switch (context.kind) {
      case 'principle':
        context.builder.add(block);
        return;
      case 'value': {
        const value = body.values[context.index];
        if (value) value.explanation = value.explanation ? `${value.explanation}\n\n${text}` : text;
        return;
      }
      case 'conflicts':
        body.conflictResolution.push(text);
        return;
      case 'preamble':
        if (!announced) {
          const section = currentSection();
          if (section) body.preamble.push(`**${section.text}**`);
          announced = true;
        }
        body.preamble.push(text);
    }
  }
}

/** The headings a principle sits under, outermost first, joined with ` > `; the title is not one. */
export function sectionPath(sections: readonly MarkdownHeading[]): string | undefined {
  const names = sections
    .map((heading) => heading.text)
    .filter((name) => name !== '' && !PRINCIPLES_SECTION.test(name));
  return names.length === 0 ? undefined : names.join(' > ');
}

/** The level-1 heading is the title only when it is the only one (else the file has chapters). */
export function singleTopHeading(blocks: readonly MarkdownBlock[]): number | undefined {
  const top = blocks.filter((block) => block.type === 'heading' && block.heading.level === 1);
  return top.length === 1 ? 1 : undefined;
}

function isPrinciple(
  blocks: readonly MarkdownBlock[],
  index: number,
  skipFraming: boolean,
): boolean {
  const block = blocks[index];
  if (block?.type !== 'heading') return false;
  const { heading } = block;
  if (heading.attributes.authority !== undefined || heading.attributes.priority !== undefined) {
    return true;
  }
  // Without front matter (a published document) an anchored overview or glossary frames the spec;
  // in a file with front matter (as renderMarkdown writes) every anchored leaf is a principle.
  if (skipFraming && FRAMING_SECTION.test(heading.text)) return false;
  for (const next of blocks.slice(index + 1)) {
    if (next.type !== 'heading') continue;
    if (next.heading.level <= heading.level) return true;
    if (next.heading.anchor) return false;
  }
  return true;
}
