import type { ChatMessage } from './chat.js';

/**
 * OpenAI and Anthropic both pair a tool result with its call by id. Transcripts written by hand (or
 * parsed from pseudo-XML) may carry none, so missing ids are filled in: each call gets
 * `call_<turn>_<index>`, and a tool turn without `toolCallId` answers the oldest call still open
 * (the one with its `name`, when given).
 */
export function withToolCallIds(messages: ChatMessage[]): ChatMessage[] {
  const open: { id: string; name: string }[] = [];
  return messages.map((message, turn) => {
    if (message.role === 'assistant' && message.toolCalls?.length) {
      const toolCalls = message.toolCalls.map((call, index) => ({
        ...call,
        id: call.id ?? `call_${turn}_${index}`,
      }));
      for (const call of toolCalls) open.push({ id: call.id, name: call.name });
      return { ...message, toolCalls };
    }
    if (message.role === 'tool') {
      let at = open.findIndex((call) =>
        message.toolCallId ? call.id === message.toolCallId : call.name === message.name,
      );
      if (at < 0 && !message.toolCallId) at = open.length > 0 ? 0 : -1;
      const answered = at >= 0 ? open.splice(at, 1)[0] : undefined;
      return {
        ...message,
        toolCallId: message.toolCallId ?? answered?.id ?? `call_unmatched_${turn}`,
        name: message.name ?? answered?.name,
      };
    }
    return message;
  });
}
