import type { MarkdownHeading } from './markdown-blocks.js';
import type { MarkdownBody } from './markdown-body.js';

/**
 * `[?](#id)`: OpenAI's Model Spec links to another of its sections with a question mark, which its
 * site shows as that section's title. A reader reads the title, so the link gets it:
 * `see also [?](#refusal_style)` becomes `see also [When appropriate, be helpful when refusing](#refusal_style)`.
 * Links to an id the document does not have are left as written; transcripts are never touched.
 */
const UNTITLED_LINK = /\[\?\]\(#([\w.-]+)\)/g;

export function titleCrossReferences(
  body: MarkdownBody,
  headings: readonly MarkdownHeading[],
): void {
  const titles = new Map<string, string>();
  for (const heading of headings) {
    if (heading.anchor !== undefined && heading.text !== '')
      titles.set(heading.anchor, heading.text);
  }
  if (titles.size === 0) return;
  const fill = (text: string): string =>
    text.replace(UNTITLED_LINK, (link, id: string) => {
      const title = titles.get(id);
      return title === undefined ? link : `[${title.replace(/[[\]]/g, '\\$&')}](#${id})`;
    });
  body.preamble = body.preamble.map(fill);
  body.conflictResolution = body.conflictResolution.map(fill);
  for (const principle of body.principles) {
    principle.statement = fill(principle.statement);
    principle.subRules = principle.subRules.map(fill);
    if (principle.rationale !== undefined) principle.rationale = fill(principle.rationale);
    for (const example of principle.examples) {
      if (example.text !== undefined) example.text = fill(example.text);
      if (example.explanation !== undefined) example.explanation = fill(example.explanation);
    }
  }
}
