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
/**
 * `<!-- GOOD -->`, `<!-- BAD: why -->`, `<!-- GOOD, given … -->`, `<!-- OK -->` (acceptable, not
 * ideal) and `<!-- BAD[#chain_of_command]: why -->` (the section the answer goes against).
 */
const MARKER = /^\s*<!--\s*(GOOD|BAD|OK)\b(?:\[#([\w.-]+)\])?\s*[:,]?\s*(.*?)\s*-->\s*/i;

interface Turn {
  role: Role;
  content: string;
  kind?: 'good' | 'bad';
  explanation?: string;
}

/**
 * Reads a fenced transcript (fence lines included or not) into examples. Each `<comparison>` gives
 * one example per alternative answer, with the turns before it; an earlier comparison contributes
 * its (first) good answer to the turns of a later one, and turns after the last comparison follow
 * each of its answers. Without a comparison: one example whose kind is its assistant turn's marker
 * (good when unmarked). Undefined when the block holds no turns at all (then it is no transcript).
 */
export function readTranscriptExamples(
  code: string,
  description: string,
): TranscriptExample[] | undefined {
  const lines = code.split('\n');
  if (/^\s*(```|~~~)/.test(lines[0] ?? '')) lines.shift();
  if (/^\s*(```|~~~)\s*$/.test(lines.at(-1) ?? '')) lines.pop();
  const segments: ({ turn: Turn } | { alternatives: Turn[] })[] = [];
  let comparison: Turn[] | undefined;
  let index = 0;
  while (index < lines.length) {
    const line = (lines[index] ?? '').trim();
    index++;
    if (/^<comparison>\s*$/.test(line)) {
      comparison = [];
      continue;
    }
    if (/^<\/comparison>\s*$/.test(line)) {
      if (comparison) segments.push({ alternatives: comparison });
      comparison = undefined;
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
      const explanation = markerExplanation(
        (marker[1] ?? '').toUpperCase(),
        marker[2],
        marker[3] ?? '',
      );
      if (explanation) turn.explanation = explanation;
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
    if (comparison) comparison.push(turn);
    else segments.push({ turn });
  }
  if (comparison) segments.push({ alternatives: comparison });
  const plain = (turns: Turn[]) => turns.map(({ role, content }) => ({ role, content }));
  const make = (kind: 'good' | 'bad', turns: Turn[], explanation?: string): TranscriptExample => ({
    kind,
    ...(description === '' ? {} : { text: description }),
    transcript: plain(turns),
    ...(explanation ? { explanation } : {}),
  });
  const examples: { answer: Turn; before: Turn[] }[][] = [];
  const context: Turn[] = [];
  let trailing: Turn[] = [];
  for (const segment of segments) {
    if ('turn' in segment) {
      context.push(segment.turn);
      trailing.push(segment.turn);
      continue;
    }
    if (segment.alternatives.length === 0) continue;
    examples.push(segment.alternatives.map((answer) => ({ answer, before: [...context] })));
    const chosen =
      segment.alternatives.find((answer) => answer.kind !== 'bad') ?? segment.alternatives[0];
    if (chosen) context.push(chosen);
    trailing = [];
  }
  if (examples.length > 0) {
    const last = examples.length - 1;
    return examples.flatMap((group, at) =>
      group.map(({ answer, before }) =>
        make(
          answer.kind ?? 'good',
          [...before, answer, ...(at === last ? trailing : [])],
          answer.explanation,
        ),
      ),
    );
  }
  if (context.length === 0) return undefined;
  const marked = context.find((turn) => turn.kind !== undefined);
  return [make(marked?.kind ?? 'good', context, marked?.explanation)];
}

/** The why of a marked answer: its own words, what an `OK` means, and the section it goes against. */
function markerExplanation(mark: string, section: string | undefined, why: string): string {
  const own =
    mark === 'OK' ? (why ? `acceptable, not ideal: ${why}` : 'acceptable, not ideal') : why;
  if (section === undefined) return own;
  const reference = mark === 'BAD' ? `violates #${section}` : `see #${section}`;
  return own ? `${own} (${reference})` : reference;
}
