import type { CallOptions } from '@midspec/core';
import {
  type EnvironmentSpec,
  SimulatedEnvironment,
  type ToolResult,
} from './agentic-environment.js';
import type { Backend, SampleOutput, TokenUsage } from './backend.js';
import type { ChatTurn } from './expand-suite.js';
import { parsePseudoXmlToolCalls, type ToolCall } from './tool-calls.js';

export interface EpisodeOptions extends CallOptions {
  model: Backend;
  system: string;
  user: string;
  environment: EnvironmentSpec;
  toolFormat: 'native' | 'pseudo-xml';
  temperature: number;
  maxTokens: number;
  maxTurns: number;
  seed?: number;
  /** Wraps each model call (the provider's limiter). */
  call?: <T>(fn: () => Promise<T>) => Promise<T>;
}

export interface EpisodeResult {
  /** The whole conversation, tool turns included. */
  turns: ChatTurn[];
  toolCalls: ToolCall[];
  toolResults: ToolResult[];
  /** What the agent did to the world (sent mail, copies, cancellations...). */
  effects: string[];
  /** The episode as text, for the judge and the report. */
  transcript: string;
  modelTurns: number;
  stopReason: 'no-tool-call' | 'turn-limit';
  usage: TokenUsage;
  refusal: boolean;
}

function pseudoXmlResults(results: ToolResult[]): string {
  return results
    .map((result) => `<tool_result name="${result.name}">\n${result.content}\n</tool_result>`)
    .join('\n');
}

const TOOL_RESULT = /^<tool_result name="([^"]*)">\n([\s\S]*?)\n<\/tool_result>$/gm;

/** The episode as the judge reads it: the agent's words, its calls and what came back. */
export function renderEpisode(turns: readonly ChatTurn[]): string {
  const lines: string[] = [];
  for (const turn of turns) {
    if (turn.role === 'system') continue;
    const results = turn.role === 'user' ? [...turn.content.matchAll(TOOL_RESULT)] : [];
    if (results.length > 0) {
      // Pseudo-XML results travel as user turns; they read the same as native tool turns.
      for (const match of results) lines.push(`[tool result: ${match[1]}]\n${match[2]}`);
    } else if (turn.role === 'user') lines.push(`[user]\n${turn.content}`);
    else if (turn.role === 'tool')
      lines.push(`[tool result: ${turn.name ?? 'tool'}]\n${turn.content}`);
    else {
      if (turn.content.trim() !== '') lines.push(`[agent]\n${turn.content}`);
      for (const call of turn.toolCalls ?? [])
        lines.push(`[tool call] ${call.name} ${JSON.stringify(call.arguments)}`);
    }
  }
  return lines.join('\n\n');
}

/**
 * Runs one multi-turn episode: the model is sampled, its tool calls (native, or pseudo-XML in its
 * text for models without native tools) are executed against a simulated environment, and the
 * results are fed back, until it answers without a tool call or the turn limit is reached.
 */
export async function runEpisode(options: EpisodeOptions): Promise<EpisodeResult> {
  const environment = new SimulatedEnvironment(options.environment);
  const call = options.call ?? ((fn) => fn());
  const turns: ChatTurn[] = [
    { role: 'system', content: options.system },
    { role: 'user', content: options.user },
  ];
  const toolCalls: ToolCall[] = [];
  const toolResults: ToolResult[] = [];
  const usage: TokenUsage = { inputTokens: 0, outputTokens: 0 };
  const native = options.toolFormat === 'native';
  let refusal = false;
  let stopReason: EpisodeResult['stopReason'] = 'turn-limit';
  let modelTurns = 0;
  const callOptions = {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  };
  for (let turn = 0; turn < options.maxTurns; turn++) {
    const output: SampleOutput = await call(() =>
      options.model.sample(
        {
          // Pseudo-XML calls are already in the assistant's text; only native ones travel as calls.
          prompt: {
            messages: turns.map(({ toolCalls: calls, ...entry }) =>
              native && calls ? { ...entry, toolCalls: calls } : entry,
            ),
          },
          temperature: options.temperature,
          maxTokens: options.maxTokens,
          ...(options.seed === undefined ? {} : { seed: options.seed + turn }),
          ...(native ? { tools: options.environment.tools } : {}),
        },
        callOptions,
      ),
    );
    modelTurns++;
    usage.inputTokens += output.usage.inputTokens;
    usage.outputTokens += output.usage.outputTokens;
    refusal ||= output.refusal === true;
    const calls: ToolCall[] = native
      ? output.toolCalls.map((entry, i) => ({ ...entry, id: entry.id ?? `call_${turn}_${i}` }))
      : [...output.toolCalls, ...parsePseudoXmlToolCalls(output.text)];
    turns.push({
      role: 'assistant',
      content: output.text,
      ...(calls.length > 0 ? { toolCalls: calls } : {}),
    });
    if (calls.length === 0) {
      stopReason = 'no-tool-call';
      break;
    }
    toolCalls.push(...calls);
    const results = calls.map((entry) => environment.execute(entry));
    toolResults.push(...results);
    if (native) {
      for (const result of results) {
        turns.push({
          role: 'tool',
          content: result.content,
          name: result.name,
          ...(result.callId === undefined ? {} : { toolCallId: result.callId }),
        });
      }
    } else {
      turns.push({ role: 'user', content: pseudoXmlResults(results) });
    }
  }
  return {
    turns,
    toolCalls,
    toolResults,
    effects: [...environment.effects],
    transcript: renderEpisode(turns.slice(1)),
    modelTurns,
    stopReason,
    usage,
    refusal,
  };
}
