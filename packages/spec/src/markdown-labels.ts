// Labelled lines that both Markdown dialects understand, inside a principle: `**Rationale:** …` in
// heading-based specs, `- Rationale: …` as a sub-bullet in rule lists.

export type LabelField =
  | 'rationale'
  | 'values'
  | 'priority'
  | 'authority'
  | 'overrides'
  | 'conflictsWith'
  | 'domains'
  | 'tags'
  | 'good'
  | 'bad'
  | 'why';

const LABELS: Record<string, LabelField> = {
  rationale: 'rationale',
  serves: 'values',
  values: 'values',
  priority: 'priority',
  authority: 'authority',
  overrides: 'overrides',
  'takes precedence over': 'overrides',
  'conflicts with': 'conflictsWith',
  domains: 'domains',
  tags: 'tags',
  'good example': 'good',
  'example (good)': 'good',
  'bad example': 'bad',
  'example (bad)': 'bad',
  why: 'why',
};

const LABEL_LINE = /^\*{0,2}([A-Za-z][A-Za-z ()]*?)(?::\*{2}|\*{2}:|:)(?:\s+|$)(.*)$/s;

export function readLabel(text: string): { field: LabelField; rest: string } | undefined {
  const match = LABEL_LINE.exec(text.trim());
  if (!match) return undefined;
  const field = LABELS[(match[1] ?? '').trim().toLowerCase()];
  return field ? { field, rest: (match[2] ?? '').trim() } : undefined;
}

/** Canonical label text for export. */
export const LABEL_TEXT: Record<Exclude<LabelField, 'why'>, string> & { why: string } = {
  rationale: 'Rationale',
  values: 'Serves',
  priority: 'Priority',
  authority: 'Authority',
  overrides: 'Overrides',
  conflictsWith: 'Conflicts with',
  domains: 'Domains',
  tags: 'Tags',
  good: 'Good example',
  bad: 'Bad example',
  why: 'Why',
};

export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

interface DraftExample {
  kind: 'good' | 'bad';
  text?: string;
  transcript?: { role: string; content: string }[];
  explanation?: string;
}

/** A principle as the importers build it, before schema validation. */
export interface PrincipleDraft {
  id: string;
  title?: string;
  section?: string;
  statement: string;
  rationale?: string;
  values?: string[];
  priority?: number | string;
  authority?: string;
  overrides?: string[];
  conflictsWith?: string[];
  subRules: string[];
  examples: DraftExample[];
  domains?: string[];
  tags?: string[];
}

/**
 * Applies one labelled piece of text to a draft; returns the field that later unlabelled text
 * continues (rationale and example text run over several paragraphs), if any.
 */
export function applyLabel(
  draft: PrincipleDraft,
  field: LabelField,
  rest: string,
  previous: LabelField | undefined,
): LabelField | undefined {
  switch (field) {
    case 'rationale':
      draft.rationale = rest;
      return 'rationale';
    case 'why': {
      const example = draft.examples.at(-1);
      if (example && (previous === 'good' || previous === 'bad')) {
        example.explanation = rest;
        return 'why';
      }
      draft.rationale = rest;
      return 'rationale';
    }
    case 'good':
    case 'bad':
      draft.examples.push(rest === '' ? { kind: field } : { kind: field, text: rest });
      return field;
    case 'priority':
      draft.priority = /^\d+$/.test(rest) ? Number(rest) : rest;
      return undefined;
    case 'authority':
      draft.authority = rest;
      return undefined;
    default:
      draft[field] = [...(draft[field] ?? []), ...splitList(rest)];
      return undefined;
  }
}

/** Continues a multi-paragraph labelled field with another paragraph. */
export function continueLabel(draft: PrincipleDraft, field: LabelField, text: string): boolean {
  const join = (before: string | undefined) => (before ? `${before}\n\n${text}` : text);
  if (field === 'rationale') {
    draft.rationale = join(draft.rationale);
    return true;
  }
  const example = draft.examples.at(-1);
  if (!example) return false;
  if (field === 'why') example.explanation = join(example.explanation);
  else if (field === 'good' || field === 'bad') {
    if (example.transcript) return false;
    example.text = join(example.text);
  } else return false;
  return true;
}

const TRANSCRIPT_LINE =
  /^\*{0,2}(system|developer|user|assistant|tool)(?::\*{2}|\*{2}:|:)\s?(.*)$/i;

/** Reads `> **user:** …` lines into chat messages; other lines continue the message before. */
export function readTranscript(lines: readonly string[]): { role: string; content: string }[] {
  const messages: { role: string; content: string }[] = [];
  for (const line of lines) {
    const match = TRANSCRIPT_LINE.exec(line);
    if (match) messages.push({ role: (match[1] ?? '').toLowerCase(), content: match[2] ?? '' });
    else {
      const last = messages.at(-1);
      if (last) last.content = `${last.content}\n${line}`;
      else messages.push({ role: 'user', content: line });
    }
  }
  return messages;
}
