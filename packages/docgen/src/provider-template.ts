import { SeededRandom } from '@midspec/core';
import type { Spec } from '@midspec/spec';
import type {
  CallOptions,
  CompletionRequest,
  CompletionResult,
  NamedItem,
  Provider,
} from './provider.js';
import { renderTemplateDocument } from './template-documents.js';
import {
  assistantName,
  capitalize,
  conflictBlock,
  firstSentence,
  Phrasing,
  principlesOf,
  titleOf,
} from './template-material.js';
import {
  templateAssertions,
  templateDocTypes,
  templateDomains,
  templateIdeas,
  templatePrompts,
  templateSubdomains,
} from './template-structured.js';

/**
 * Offline and deterministic: answers every stage from the spec's own statements, rationales, values,
 * sub-rules and examples (conflict-case guidance included), varied by the request's seed. It needs no
 * key and no network, so the pipeline, the tests and the embedded CPU-only default run anywhere. It is
 * not a language model: its documents restate the spec in many forms rather than invent new content.
 */
export function createTemplateProvider(): Provider {
  return {
    id: 'template',
    model: 'template',
    defaultConcurrency: 8,
    async complete(request: CompletionRequest, options?: CallOptions): Promise<CompletionResult> {
      options?.signal?.throwIfAborted();
      const text = answer(request);
      return { text, finishReason: 'stop', promptTokens: 0, completionTokens: 0 };
    },
  };
}

function answer(request: CompletionRequest): string {
  const task = request.task;
  const spec = task.spec;
  const random = new SeededRandom(request.seed ?? 0, task.stage);
  const items = (list: NamedItem[]) => JSON.stringify({ items: list });
  switch (task.stage) {
    case 'domains':
    case 'demo-domains':
      return items(
        templateDomains(spec, task.count ?? 1).filter((item) => !task.have?.includes(item.name)),
      );
    case 'subdomains':
      return items(
        templateSubdomains(spec, task).filter((item) => !task.have?.includes(item.name)),
      );
    case 'assertions':
      return items(
        templateAssertions(spec, task).filter((item) => !task.have?.includes(item.name)),
      );
    case 'doc-types':
      return items(
        templateDocTypes(task, random).filter((item) => !task.have?.includes(item.name)),
      );
    case 'ideas':
      return items(templateIdeas(spec, task, random));
    case 'prompts':
      return items(templatePrompts(spec, task, random));
    case 'documents': {
      const principle =
        principlesOf(spec, task.idea, task.assertion, task.subdomain)[0] ??
        random.pick(spec.principles);
      return renderTemplateDocument(task.docType?.name ?? '', {
        spec,
        principle,
        ...(task.assertion ? { assertion: task.assertion } : {}),
        idea: task.idea ?? { name: titleOf(principle), description: '' },
        domain: task.domain ?? { name: spec.title, description: '' },
        phrasing: new Phrasing(random),
      });
    }
    case 'revisions': {
      const principle = principlesOf(spec, task.idea, task.subdomain)[0];
      const reason = principle?.rationale ? ` ${firstSentence(principle.rationale)}` : '';
      return `${task.text ?? ''}${reason ? `\n\nThe reason, once more:${reason}` : ''}`;
    }
    case 'consistency':
    case 'demo-judge':
      return JSON.stringify({
        consistent: true,
        reason: 'the template restates the spec verbatim',
      });
    case 'responses':
      return templateResponse(spec, task.source, task.withReasoning ?? false, random);
  }
}

function templateResponse(
  spec: Spec,
  prompt: NamedItem | undefined,
  withReasoning: boolean,
  random: SeededRandom,
): string {
  const principle = principlesOf(spec, prompt)[0] ?? spec.principles[0];
  if (!principle) return '';
  const message = (prompt?.name ?? '').toLowerCase();
  const example = principle.examples.find((item) =>
    item.transcript?.some(
      (turn) => turn.role === 'user' && message.includes(turn.content.trim().toLowerCase()),
    ),
  );
  const shown = example?.transcript?.find((turn) => turn.role === 'assistant')?.content.trim();
  const answer =
    shown ??
    `${capitalize(principle.statement.trim())}${principle.rationale ? ` ${principle.rationale.trim()}` : ''}`;
  if (!withReasoning) return answer;
  const conflict = conflictBlock(spec, principle, new Phrasing(random));
  const reasoning = [
    `${principle.id} applies: ${principle.statement.trim()}`,
    principle.rationale?.trim(),
    conflict && `Conflict guidance: ${conflict.replace(/\n/g, ' ')}`,
    `So ${assistantName(spec)} should answer accordingly.`,
  ]
    .filter(Boolean)
    .join(' ');
  return `<reasoning>${reasoning}</reasoning>\n\n${answer}`;
}
