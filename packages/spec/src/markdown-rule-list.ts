import { blocksToText, type ListItem, type MarkdownBlock, slugify } from './markdown-blocks.js';
import {
  CONFLICTS_SECTION,
  emptyBody,
  type MarkdownBody,
  PRINCIPLES_SECTION,
  PrincipleBuilder,
  VALUES_SECTION,
} from './markdown-body.js';
import type { PositionTable } from './source-position.js';

/** `- SP1: statement`, also with the id in bold. An id contains a digit, so `- Note: …` is no rule. */
const RULE_ITEM =
  /^\*{0,2}([A-Za-z][A-Za-z0-9_-]*\d(?:[._-]?[A-Za-z0-9]+)*)\*{0,2}\s*:\*{0,2}\s+(.+)$/s;
const VALUE_ITEM = /^\*{0,2}([^:*]+?)\*{0,2}\s*:\*{0,2}\s+(.+)$/s;

/**
 * Reads a rule-list spec as published with the method: `#`/`##` sections, `- ID: statement` bullets
 * with nested sub-bullets, free preamble text. Text that is not a rule goes to the preamble under
 * its section's heading, so nothing the author wrote is lost.
 */
export function readRuleList(blocks: readonly MarkdownBlock[], table: PositionTable): MarkdownBody {
  const body = emptyBody();
  let section: string | undefined;
  let sectionAnnounced = true;
  const toPreamble = (text: string) => {
    if (!sectionAnnounced && section !== undefined) body.preamble.push(`**${section}**`);
    sectionAnnounced = true;
    body.preamble.push(text);
  };

  for (const block of blocks) {
    if (block.type === 'heading') {
      const { heading } = block;
      if (heading.level === 1 && body.title === undefined && section === undefined) {
        body.title = heading.text;
        table.set(['title'], { line: heading.line, column: 1 });
        continue;
      }
      section = heading.text;
      sectionAnnounced = false;
      continue;
    }
    const sectionName = section ?? '';
    if (VALUES_SECTION.test(sectionName) && block.type === 'list') {
      for (const item of block.items) readValue(item, body, table);
      continue;
    }
    if (CONFLICTS_SECTION.test(sectionName)) {
      body.conflictResolution.push(blocksToText([block]));
      continue;
    }
    if (block.type !== 'list') {
      toPreamble(blocksToText([block]));
      continue;
    }
    const others: ListItem[] = [];
    let leadIn: PrincipleBuilder | undefined;
    for (const item of block.items) {
      const match = RULE_ITEM.exec(item.text);
      if (!match) {
        // `- SP1: … This includes:` followed by unindented bullets: they are its sub-rules.
        if (leadIn) leadIn.addItem(item);
        else others.push(item);
        continue;
      }
      const index = body.principles.length;
      const path = ['principles', index];
      table.set(path, { line: item.line, column: item.column });
      table.set([...path, 'id'], { line: item.line, column: item.column });
      table.set([...path, 'statement'], { line: item.line, column: item.column });
      const builder = new PrincipleBuilder(
        {
          id: match[1] ?? '',
          section: section === undefined || PRINCIPLES_SECTION.test(section) ? undefined : section,
          statement: '',
          subRules: [],
          examples: [],
        },
        path,
        table,
      );
      // Paragraphs under the rule (an explanation, a `Rationale:` line) follow its statement.
      for (const text of (match[2] ?? '').split('\n\n')) {
        builder.add({ type: 'paragraph', text, line: item.line });
      }
      for (const child of item.children) builder.addItem(child);
      body.principles.push(builder.finish());
      leadIn = /:\s*$/.test(match[2] ?? '') ? builder : undefined;
    }
    if (others.length > 0)
      toPreamble(blocksToText([{ type: 'list', items: others, line: block.line }]));
  }
  return body;
}

export function readValue(item: ListItem, body: MarkdownBody, table: PositionTable): void {
  const match = VALUE_ITEM.exec(item.text);
  const name = (match ? match[1] : item.text)?.trim() ?? '';
  const explanation = [match?.[2] ?? '', ...item.children.map((child) => child.text)]
    .filter((text) => text !== '')
    .join('\n\n');
  table.set(['values', body.values.length], { line: item.line, column: item.column });
  body.values.push({ id: slugify(name), name, explanation });
}
