import { blocksToText, type ListItem, type MarkdownBlock } from './markdown-blocks.js';
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

/**
 * Fills a principle from the blocks under it: unlabelled paragraphs are the statement, list items
 * are sub-rules (or labelled fields), block quotes after an example label are its transcript.
 */
export class PrincipleBuilder {
  private readonly statement: string[] = [];
  private field: LabelField | undefined;

  constructor(
    readonly draft: PrincipleDraft,
    private readonly path: (string | number)[],
    private readonly table: PositionTable,
  ) {}

  add(block: MarkdownBlock): void {
    switch (block.type) {
      case 'paragraph':
        this.addText(block.text, block.line);
        return;
      case 'list':
        for (const item of block.items) this.addItem(item);
        return;
      case 'quote':
        this.addQuote(block.lines, block.line);
        return;
      case 'code':
        this.addText(block.text, block.line);
        return;
      case 'heading':
        return;
    }
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
    this.table.set([...this.path, 'subRules', this.draft.subRules.length], {
      line: item.line,
      column: item.column,
    });
    this.draft.subRules.push(item.text);
    for (const child of item.children) this.addItem(child);
  }

  finish(): PrincipleDraft {
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
