import type { ChatTurn } from './expand-suite.js';
import type { ToolCall } from './tool-calls.js';

// The shared chat shape (assistant turns with `toolCalls`, `tool` turns with `toolCallId`) in each
// provider's native wire format.

const callId = (call: ToolCall, turn: number, index: number) => call.id ?? `call_${turn}_${index}`;

function argumentsJson(call: ToolCall): string {
  // A native call's raw text is the provider's own JSON; anything else is re-encoded.
  if (call.source === 'native' && !call.lenient) return call.raw;
  return JSON.stringify(call.arguments);
}

/** Tool turns without an id answer the calls of the latest assistant turn, in order. */
function resolveIds(turns: readonly ChatTurn[]): Array<{ turn: ChatTurn; ids: string[] }> {
  let pending: string[] = [];
  return turns.map((turn, t) => {
    if (turn.role === 'assistant' && turn.toolCalls?.length) {
      pending = turn.toolCalls.map((call, i) => callId(call, t, i));
      return { turn, ids: [...pending] };
    }
    if (turn.role === 'tool') {
      const id = turn.toolCallId ?? pending.shift() ?? `call_${t}`;
      if (turn.toolCallId) pending = pending.filter((value) => value !== id);
      return { turn, ids: [id] };
    }
    return { turn, ids: [] };
  });
}

export type OpenAIChatMessage =
  | { role: 'system' | 'user'; content: string }
  | {
      role: 'assistant';
      content: string | null;
      tool_calls?: Array<{
        id: string;
        type: 'function';
        function: { name: string; arguments: string };
      }>;
    }
  | { role: 'tool'; tool_call_id: string; content: string };

/** Chat Completions messages. */
export function toOpenAIMessages(turns: readonly ChatTurn[]): OpenAIChatMessage[] {
  return resolveIds(turns).map(({ turn, ids }) => {
    if (turn.role === 'assistant' && turn.toolCalls?.length) {
      return {
        role: 'assistant',
        content: turn.content === '' ? null : turn.content,
        tool_calls: turn.toolCalls.map((call, i) => ({
          id: ids[i] as string,
          type: 'function',
          function: { name: call.name, arguments: argumentsJson(call) },
        })),
      };
    }
    if (turn.role === 'tool')
      return { role: 'tool', tool_call_id: ids[0] as string, content: turn.content };
    if (turn.role === 'assistant') return { role: 'assistant', content: turn.content };
    return { role: turn.role, content: turn.content };
  });
}

type AnthropicBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> }
  | { type: 'tool_result'; tool_use_id: string; content: string };

export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: AnthropicBlock[];
}

/**
 * Messages API turns and the system text. Tool results travel in user turns, and consecutive turns
 * of one role are merged (the API wants them alternating).
 */
export function toAnthropicMessages(turns: readonly ChatTurn[]): {
  system: string;
  messages: AnthropicMessage[];
} {
  const system = turns
    .filter((turn) => turn.role === 'system')
    .map((turn) => turn.content)
    .join('\n\n');
  const messages: AnthropicMessage[] = [];
  for (const { turn, ids } of resolveIds(turns)) {
    if (turn.role === 'system') continue;
    const role = turn.role === 'assistant' ? 'assistant' : 'user';
    const blocks: AnthropicBlock[] = [];
    if (turn.role === 'tool') {
      blocks.push({ type: 'tool_result', tool_use_id: ids[0] as string, content: turn.content });
    } else {
      if (turn.content !== '') blocks.push({ type: 'text', text: turn.content });
      turn.toolCalls?.forEach((call, i) => {
        blocks.push({
          type: 'tool_use',
          id: ids[i] as string,
          name: call.name,
          input: { ...call.arguments },
        });
      });
    }
    if (blocks.length === 0) blocks.push({ type: 'text', text: '(empty)' });
    const last = messages.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  }
  return { system, messages };
}
