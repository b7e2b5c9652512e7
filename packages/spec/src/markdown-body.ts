import { blocksToText, type ListItem, listToText, type MarkdownBlock } from './markdown-blocks.js';
import { readExampleLead, readTranscriptExamples } from './markdown-examples.js';
import {
  applyLabel,
  continueLabel,
  type LabelField,
  type PrincipleDraft,
  readLabel,
  readTranscript,
} from './markdown-labels.js';
import type { PositionTable } from './source-position.js';

/** What either Markdown dialect yields from the document body (front matter is merged later). */
export interface MarkdownBody {
  title?: string;
  preamble: string[];
  conflictResolution: string[];
  values: { id: string; name: string; explanation: string }[];
  principles: PrincipleDraft[];
}

export function emptyBody(): MarkdownBody {
  return { preamble: [], conflictResolution: [], values: [], principles: [] };
}

export const PRINCIPLES_SECTION = /^principles$/i;
export const VALUES_SECTION = /^values$/i;
export const CONFLICTS_SECTION =
  /^(resolving conflicts|conflict resolution|conflicts|priorities)$/i;

/** Sections that frame the spec rather than state a principle: they go to the preamble. */
export const FRAMING_SECTION =
  /^(\d+(\.\d+)*[.)]?\s+)?(overview|introduction|intro|preface|preamble|foreword|background|context|about( this (document|spec))?|purpose|scope|structure( of (the|this) (document|spec))?|how to (read|use) this( document| spec)?|definitions?|glossary|terminology|key terms|table of contents|contents|(read )?(a )?summary( of .*)?|notes?|changelog|change log|references|acknowledge?ments|license|licen[cs]ing|appendix.*|faq|further reading|conclusion|closing (thoughts|words)|a note on .*|(.*\s)?(mission( of .*)?|our approach|approach to .*|acknowledging .*|open problems|concluding .*|final word.*|on the word .*))$/i;

/** A list item that is only a bold name, as over a group of nested bullets. */
const GROUP_LABEL = /^\*\*([^*\n]+?)\*\*:?$/;

/** A paragraph that announces an ordering: the list after it stays in the text, in its order. */
const ORDERING_LEAD =
  /\b(order(ing)? of|in (this|the following) order|in order of|ranked|ranking|priority order|prioriti[sz]e)\b[^.]*:\s*$/i;

/**
 * Fills a principle from the blocks under it: unlabelled paragraphs are the statement, list items
 * are sub-rules (or labelled fields), block quotes after an example label are its transcript.
 */
export class PrincipleBuilder {
  private readonly statement: string[] = [];
  private field: LabelField | undefined;
  private pendingExample: { text: string; raw: string; line: number } | undefined;
  private lastParagraph: string | undefined;

  constructor(
    readonly draft: PrincipleDraft,
    private readonly path: (string | number)[],
    private readonly table: PositionTable,
  ) {}

  add(block: MarkdownBlock): void {
    const pending = this.pendingExample;
    this.pendingExample = undefined;
    if (pending && block.type === 'code') {
      const examples = readTranscriptExamples(block.text, pending.text);
      if (examples) {
        for (const example of examples) {
          this.table.set([...this.path, 'examples', this.draft.examples.length], {
            line: pending.line,
            column: 1,
          });
          this.draft.examples.push(example);
        }
        this.field = undefined;
        return;
      }
    }
    if (pending) this.addText(pending.raw, pending.line);
    switch (block.type) {
      case 'paragraph': {
        const lead = readExampleLead(block.text);
        if (lead) {
          this.pendingExample = { text: lead.text, raw: block.text, line: block.line };
          return;
        }
        this.addText(block.text, block.line);
        this.lastParagraph = block.text;
        return;
      }
      case 'list':
        if (block.ordered || ORDERING_LEAD.test(this.lastParagraph ?? '')) {
          // An ordered list (or one announced as an ordering) stays in the text, in place.
          this.addText(listToText(block.items), block.line);
        } else {
          for (const item of block.items) this.addItem(item);
        }
        this.lastParagraph = undefined;
        return;
      case 'quote':
        this.addQuote(block.lines, block.line);
        return;
      case 'code':
      case 'note':
        this.addText(blocksToText([block]), block.line);
        return;
      case 'heading':
        // A sub-heading's words stay in the text, except one that only groups the examples.
        if (!/^(good |bad )?examples?$/i.test(block.heading.text)) {
          this.addText(`**${block.heading.text}**`, block.line);
        }
        return;
    }
  }

  /** Ends the principle: an example lead with no transcript after it is kept as text. */
  private flushPending(): void {
    const pending = this.pendingExample;
    this.pendingExample = undefined;
    if (pending) this.addText(pending.raw, pending.line);
  }

  addItem(item: ListItem): void {
    const label = readLabel(item.text);
    if (label) {
      this.label(label.field, label.rest, item.line);
      const example = this.draft.examples.at(-1);
      if (
        (label.field === 'good' || label.field === 'bad') &&
        example &&
        item.children.length > 0
      ) {
        example.transcript = readTranscript(item.children.map((child) => child.text));
        return;
      }
      for (const child of item.children) this.addItem(child);
      return;
    }
    const group = GROUP_LABEL.exec(item.text)?.[1];
    if (group !== undefined && item.children.length > 0) {
      // A bold line that only names a group of bullets is not a rule itself: each bullet under it
      // is one, named with the group so nothing is lost (`**Acting within limits**: Avoiding …`).
      for (const child of item.children) {
        this.addItem({ ...child, text: `**${group}**: ${child.text}` });
      }
      return;
    }
    this.table.set([...this.path, 'subRules', this.draft.subRules.length], {
      line: item.line,
      column: item.column,
    });
    this.draft.subRules.push(item.text);
    for (const child of item.children) this.addItem(child);
  }

  finish(): PrincipleDraft {
    this.flushPending();
    this.draft.statement = this.statement.join('\n\n');
    return this.draft;
  }

  private addText(text: string, line: number): void {
    const label = readLabel(text);
    if (label) {
      this.label(label.field, label.rest, line);
      return;
    }
    if (this.field && continueLabel(this.draft, this.field, text)) return;
    if (this.statement.length === 0)
      this.table.set([...this.path, 'statement'], { line, column: 1 });
    this.statement.push(text);
  }

  private addQuote(lines: string[], line: number): void {
    const example = this.draft.examples.at(-1);
    if ((this.field === 'good' || this.field === 'bad') && example && !example.transcript) {
      example.transcript = readTranscript(lines);
      return;
    }
    this.addText(blocksToText([{ type: 'quote', lines, line }]), line);
  }

  private label(field: LabelField, rest: string, line: number): void {
    this.field = applyLabel(this.draft, field, rest, this.field);
    const position = { line, column: 1 };
    if (field === 'good' || field === 'bad') {
      this.table.set([...this.path, 'examples', this.draft.examples.length - 1], position);
    } else if (field !== 'why') this.table.set([...this.path, field], position);
  }
}
