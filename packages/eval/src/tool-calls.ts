/** A tool call the model made, from native tool-call output or parsed from pseudo-XML text. */
export interface ToolCall {
  /** The provider's id of a native call, echoed back on the tool turn that answers it. */
  id?: string;
  name: string;
  arguments: Record<string, string>;
  /** How it was obtained. */
  source: 'native' | 'pseudo-xml';
  /** The raw text of a pseudo-XML call, or the raw JSON arguments of a native one. */
  raw: string;
  /** Set when the arguments did not parse as JSON and were read leniently as `key: value` lines. */
  lenient?: boolean;
}

const TOOL_USE = /<tool_use\s+name\s*=\s*"([^"]+)"\s*>([\s\S]*?)<\/tool_use>/g;

function stringify(values: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [
      key,
      typeof value === 'string' ? value : JSON.stringify(value),
    ]),
  );
}

function lenientArguments(body: string): Record<string, string> {
  // `key: value` lines; a line without a key continues the previous value.
  const result: Record<string, string> = {};
  let current: string | undefined;
  for (const line of body.split('\n')) {
    const match = /^\s*"?([A-Za-z_][A-Za-z0-9_]*)"?\s*[:=]\s*(.*)$/.exec(line);
    if (match) {
      current = match[1] as string;
      result[current] = (match[2] as string).replace(/^"|",?$/g, '');
    } else if (current) {
      result[current] = `${result[current]}\n${line}`;
    }
  }
  return Object.fromEntries(Object.entries(result).map(([key, value]) => [key, value.trim()]));
}

/** Tool calls written as `<tool_use name="...">{json}</tool_use>` in the model's text. Scratchpad content is ignored. */
export function parsePseudoXmlToolCalls(text: string): ToolCall[] {
  const visible = text.replace(/<SCRATCHPAD_REASONING>[\s\S]*?(<\/SCRATCHPAD_REASONING>|$)/gi, '');
  const calls: ToolCall[] = [];
  for (const match of visible.matchAll(TOOL_USE)) {
    const raw = match[0];
    const body = (match[2] as string).trim();
    try {
      const parsed: unknown = JSON.parse(body);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        calls.push({
          name: match[1] as string,
          arguments: stringify(parsed as Record<string, unknown>),
          source: 'pseudo-xml',
          raw,
        });
        continue;
      }
    } catch {
      // Fall through to the lenient reading.
    }
    calls.push({
      name: match[1] as string,
      arguments: lenientArguments(body),
      source: 'pseudo-xml',
      raw,
      lenient: true,
    });
  }
  return calls;
}

/** A native tool call as providers return it (arguments as a JSON string or an object). */
export function nativeToolCall(
  name: string,
  input: string | Record<string, unknown>,
  id?: string,
): ToolCall {
  const withId = id === undefined ? {} : { id };
  if (typeof input !== 'string')
    return {
      ...withId,
      name,
      arguments: stringify(input),
      source: 'native',
      raw: JSON.stringify(input),
    };
  try {
    const parsed: unknown = JSON.parse(input);
    if (parsed && typeof parsed === 'object') {
      return {
        ...withId,
        name,
        arguments: stringify(parsed as Record<string, unknown>),
        source: 'native',
        raw: input,
      };
    }
  } catch {
    // Recorded verbatim below.
  }
  return { ...withId, name, arguments: {}, source: 'native', raw: input, lenient: true };
}
