// Examples written as OpenAI's Model Spec writes them: a `**Example**: what it shows` paragraph and a
// fenced transcript of XML-like turns, where `<comparison>` holds alternative assistant answers
// marked `<!-- GOOD -->` or `<!-- BAD: why -->`.

type Role = 'system' | 'developer' | 'user' | 'assistant' | 'tool';

export interface TranscriptExample {
  kind: 'good' | 'bad';
  text?: string;
  transcript: { role: Role; content: string }[];
  explanation?: string;
}

/** `**Example**: text`, `**Example:** text`, `**Example**` alone (also `Examples`). */
const EXAMPLE_LEAD = /^\*\*Examples?(?::\*\*|\*\*:?)(?:\s+(.*))?$/s;

/** The description of an example lead paragraph, or undefined when the paragraph is no lead. */
export function readExampleLead(text: string): { text: string } | undefined {
  const match = EXAMPLE_LEAD.exec(text.trim());
  return match ? { text: (match[1] ?? '').trim() } : undefined;
}

const ROLES: Record<string, Role> = {
  system: 'system',
  developer: 'developer',
  user: 'user',
  assistant: 'assistant',
  tool: 'tool',
};
const OPEN = /^<(system|developer|user|assistant|tool)\b([^>]*)>(.*)$/;
const MARKER = /^\s*<!--\s*(GOOD|BAD)\b\s*:?\s*(.*?)\s*-->\s*/i;

interface Turn {
  role: Role;
  content: string;
  kind?: 'good' | 'bad';
  explanation?: string;
}

/**
 * Reads a fenced transcript (fence lines included or not) into examples: one per alternative answer
 * in a `<comparison>`, each with the turns before and after it; without a comparison, one example
 * whose kind is its assistant turn's marker (good when unmarked). Undefined when the block holds no
 * turns at all (then it is not a transcript).
 */
export function readTranscriptExamples(
  code: string,
  description: string,
): TranscriptExample[] | undefined {
  const lines = code.split('\n');
  if (/^\s*(```|~~~)/.test(lines[0] ?? '')) lines.shift();
  if (/^\s*(```|~~~)\s*$/.test(lines.at(-1) ?? '')) lines.pop();
  const before: Turn[] = [];
  const alternatives: Turn[] = [];
  const after: Turn[] = [];
  let inComparison = false;
  let seenComparison = false;
  let index = 0;
  while (index < lines.length) {
    const line = (lines[index] ?? '').trim();
    index++;
    if (/^<comparison>\s*$/.test(line)) {
      inComparison = true;
      seenComparison = true;
      continue;
    }
    if (/^<\/comparison>\s*$/.test(line)) {
      inComparison = false;
      continue;
    }
    const open = OPEN.exec(line);
    if (!open) continue;
    const role = ROLES[open[1] ?? ''] as Role;
    let rest = open[3] ?? '';
    const turn: Turn = { role, content: '' };
    const marker = MARKER.exec(rest);
    if (marker) {
      turn.kind = (marker[1] ?? '').toLowerCase() === 'bad' ? 'bad' : 'good';
      if (marker[2]) turn.explanation = marker[2];
      rest = rest.slice(marker[0].length);
    }
    const close = `</${open[1]}>`;
    const body: string[] = [];
    if (rest.includes(close)) {
      body.push(rest.slice(0, rest.lastIndexOf(close)));
    } else {
      if (rest.trim() !== '') body.push(rest);
      while (index < lines.length) {
        const next = lines[index] ?? '';
        index++;
        const at = next.lastIndexOf(close);
        if (at >= 0 && next.slice(at + close.length).trim() === '') {
          if (next.slice(0, at).trim() !== '') body.push(next.slice(0, at));
          break;
        }
        body.push(next);
      }
    }
    turn.content = body.join('\n').replace(/^\n+|\s+$/g, '');
    if (inComparison) alternatives.push(turn);
    else if (seenComparison) after.push(turn);
    else before.push(turn);
  }
  const plain = (turns: Turn[]) => turns.map(({ role, content }) => ({ role, content }));
  const make = (kind: 'good' | 'bad', turns: Turn[], explanation?: string): TranscriptExample => ({
    kind,
    ...(description === '' ? {} : { text: description }),
    transcript: plain(turns),
    ...(explanation ? { explanation } : {}),
  });
  if (alternatives.length > 0) {
    return alternatives.map((answer) =>
      make(answer.kind ?? 'good', [...before, answer, ...after], answer.explanation),
    );
  }
  const turns = [...before, ...after];
  if (turns.length === 0) return undefined;
  const marked = turns.find((turn) => turn.kind !== undefined);
  return [make(marked?.kind ?? 'good', turns, marked?.explanation)];
}
