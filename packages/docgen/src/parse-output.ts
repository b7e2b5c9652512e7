import { z } from 'zod';
import type { ParseOutcome } from './engine.js';
import type { CompletionResult, NamedItem } from './provider.js';

const NamedItemSchema = z.object({
  name: z.string().trim().min(1),
  description: z.string().default(''),
  principles: z.array(z.string()).optional(),
});
const ItemsSchema = z.object({ items: z.array(NamedItemSchema) });
const VerdictSchema = z.object({ consistent: z.boolean(), reason: z.string().default('') });

/** The first JSON object in a model answer, fences and chatter around it ignored. */
export function extractJson(text: string): unknown {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text);
  const body = fenced?.[1] ?? text;
  const start = body.indexOf('{');
  const end = body.lastIndexOf('}');
  if (start < 0 || end <= start) throw new Error('no JSON object in the answer');
  return JSON.parse(body.slice(start, end + 1));
}

/** `{"items": [{"name", "description"}]}`; items with a repeated name are dropped. */
export function parseItems(result: CompletionResult): ParseOutcome<NamedItem[]> {
  let data: unknown;
  try {
    data = extractJson(result.text);
  } catch (error) {
    return { ok: false, reason: `unparseable JSON: ${(error as Error).message}` };
  }
  const parsed = ItemsSchema.safeParse(data);
  if (!parsed.success)
    return { ok: false, reason: `wrong shape: ${parsed.error.issues[0]?.message}` };
  const seen = new Set<string>();
  const items: NamedItem[] = [];
  for (const item of parsed.data.items) {
    const key = item.name.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    items.push(item.principles ? item : { name: item.name, description: item.description });
  }
  if (items.length === 0) return { ok: false, reason: 'no items' };
  return { ok: true, value: items };
}

export function documentParser(minChars: number) {
  return (result: CompletionResult): ParseOutcome<string> => {
    const text = stripPreamble(result.text).trim();
    if (text.length < minChars)
      return { ok: false, reason: `document too short (${text.length} < ${minChars} characters)` };
    return { ok: true, value: text };
  };
}

export function parseVerdict(
  result: CompletionResult,
): ParseOutcome<{ consistent: boolean; reason: string }> {
  try {
    const parsed = VerdictSchema.safeParse(extractJson(result.text));
    if (parsed.success) return { ok: true, value: parsed.data };
    return { ok: false, reason: `wrong shape: ${parsed.error.issues[0]?.message}` };
  } catch (error) {
    return { ok: false, reason: `unparseable JSON: ${(error as Error).message}` };
  }
}

const REASONING = /<reasoning>([\s\S]*?)<\/reasoning>/;

/** An assistant answer, optionally with a `<reasoning>` block before it. */
export function responseParser(withReasoning: boolean) {
  return (result: CompletionResult): ParseOutcome<{ reasoning?: string; answer: string }> => {
    const text = result.text.trim();
    const match = REASONING.exec(text);
    if (withReasoning && !match) return { ok: false, reason: 'no <reasoning> block' };
    const answer = (match ? text.replace(REASONING, '') : text).trim();
    if (answer === '') return { ok: false, reason: 'empty answer' };
    return match?.[1]
      ? { ok: true, value: { reasoning: match[1].trim(), answer } }
      : { ok: true, value: { answer } };
  };
}

/** Models sometimes open with "Here is the document:"; that line is not part of the document. */
function stripPreamble(text: string): string {
  return text.replace(/^\s*(?:Sure[,!.]?\s*)?Here(?:'s| is) (?:the|a|your) [^\n]{0,80}:\s*\n/i, '');
}
