import { DatasetFormat } from '@midspec/proto';

const ROLES = new Set(['system', 'user', 'assistant', 'tool']);

/** What is wrong with one decoded JSONL record of `format`, or undefined when it is valid. */
export function checkRecord(record: unknown, format: DatasetFormat): string | undefined {
  if (typeof record !== 'object' || record === null || Array.isArray(record))
    return 'expected a JSON object';
  const fields = record as Record<string, unknown>;
  if (format === DatasetFormat.DATASET_FORMAT_TEXT) {
    return typeof fields.text === 'string' && fields.text !== ''
      ? undefined
      : 'expected a non-empty string field "text"';
  }
  const messages = fields.messages;
  if (!Array.isArray(messages) || messages.length === 0)
    return 'expected a non-empty list field "messages"';
  for (const [index, message] of messages.entries()) {
    if (typeof message !== 'object' || message === null)
      return `messages[${index}] is not an object`;
    const { role, content } = message as Record<string, unknown>;
    if (typeof role !== 'string' || !ROLES.has(role))
      return `messages[${index}].role must be one of ${[...ROLES].join(', ')}`;
    if (typeof content !== 'string') return `messages[${index}].content must be a string`;
  }
  if (!messages.some((message) => (message as { role: string }).role === 'assistant'))
    return 'expected at least one assistant message';
  return undefined;
}
