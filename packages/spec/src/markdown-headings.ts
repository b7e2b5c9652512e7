import { blocksToText, type MarkdownBlock, type MarkdownHeading } from './markdown-blocks.js';
import {
  CONFLICTS_SECTION,
  emptyBody,
  type MarkdownBody,
  PRINCIPLES_SECTION,
  PrincipleBuilder,
  VALUES_SECTION,
} from './markdown-body.js';
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
export function readHeadings(blocks: readonly MarkdownBlock[], table: PositionTable): MarkdownBody {
  const body = emptyBody();
  const sections: MarkdownHeading[] = [];
  let context: Context = { kind: 'preamble' };
  let announced = true;
  const finish = () => {
    if (context.kind === 'principle') body.principles.push(context.builder.finish());
  };
  const currentSection = () => sections.at(-1);
  const inValues = () => sections.some((heading) => VALUES_SECTION.test(heading.text));

  blocks.forEach((block, index) => {
    if (block.type !== 'heading') {
      addBlock(block);
      return;
    }
    const { heading } = block;
    if (context.kind === 'principle' && !heading.anchor && heading.level > context.level) return;
    finish();
    if (heading.level === 1 && body.title === undefined && body.principles.length === 0) {
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
    if (heading.anchor && isPrinciple(blocks, index)) {
      const path = ['principles', body.principles.length];
      table.set(path, { line: heading.line, column: 1 });
      table.set([...path, 'id'], { line: heading.line, column: 1 });
      const sectionName = currentSection()?.text;
      const { priority, authority } = heading.attributes;
      context = {
        kind: 'principle',
        level: heading.level,
        builder: new PrincipleBuilder(
          {
            id: heading.anchor,
            title:
              heading.text === heading.anchor || heading.text === '' ? undefined : heading.text,
            section:
              sectionName === undefined || PRINCIPLES_SECTION.test(sectionName)
                ? undefined
                : sectionName,
            statement: '',
            subRules: [],
            examples: [],
            ...(priority === undefined
              ? {}
              : { priority: /^\d+$/.test(priority) ? Number(priority) : priority }),
            ...(authority === undefined ? {} : { authority }),
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

function isPrinciple(blocks: readonly MarkdownBlock[], index: number): boolean {
  const block = blocks[index];
  if (block?.type !== 'heading') return false;
  const { heading } = block;
  if (heading.attributes.authority !== undefined || heading.attributes.priority !== undefined) {
    return true;
  }
  for (const next of blocks.slice(index + 1)) {
    if (next.type !== 'heading') continue;
    if (next.heading.level <= heading.level) return true;
    if (next.heading.anchor) return false;
  }
  return true;
}
