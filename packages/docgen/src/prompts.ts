import type { ProviderMessage, TaskContext } from './provider.js';

// The prompts follow the published decomposition. Structured stages answer one JSON shape,
// {"items": [{"name", "description"}]}, so one parser and one validator serve them all.

const ITEMS_FORMAT =
  'Answer with one JSON object and nothing else: {"items": [{"name": "...", "description": "..."}]}.';

let lastSystem: { markdown: string; message: ProviderMessage } | undefined;

/** One system message per spec, reused: every request shares the same (flattened) string. */
function system(specMarkdown: string): ProviderMessage {
  if (lastSystem?.markdown === specMarkdown) return lastSystem.message;
  const message: ProviderMessage = {
    role: 'system',
    content:
      'You help build a training corpus that teaches a language model its behavioural specification: ' +
      'the rules and the values behind them. Here is the specification.\n\n<spec>\n' +
      `${specMarkdown}\n</spec>`,
  };
  lastSystem = { markdown: specMarkdown, message };
  return message;
}

/** Messages for one task; `have` lists items already collected, so a top-up asks for new ones. */
export function buildMessages(
  task: TaskContext,
  specMarkdown: string,
  have: string[] = [],
): ProviderMessage[] {
  const already =
    have.length > 0
      ? `\nDo not repeat any of these, which we already have: ${have.join('; ')}.`
      : '';
  const count = task.count ?? 1;
  const where = [
    task.domain && `Domain: ${task.domain.name} — ${task.domain.description}`,
    task.subdomain && `Subdomain: ${task.subdomain.name} — ${task.subdomain.description}`,
    task.assertion && `Assertion: ${task.assertion.name} — ${task.assertion.description}`,
    task.docType && `Document type: ${task.docType.name} — ${task.docType.description}`,
    task.idea && `Document idea: ${task.idea.name} — ${task.idea.description}`,
  ]
    .filter(Boolean)
    .join('\n');
  const user = (content: string): ProviderMessage[] => [
    system(specMarkdown),
    { role: 'user', content },
  ];
  switch (task.stage) {
    case 'domains':
    case 'demo-domains':
      return user(
        `List ${count} distinct domains (areas of life or work) in which the behaviour this spec governs ` +
          `comes up.${already}\n${ITEMS_FORMAT}`,
      );
    case 'subdomains':
      return user(
        `${where}\nList ${count} distinct, concrete subdomains of this domain where the spec's principles ` +
          `matter.${already}\n${ITEMS_FORMAT}`,
      );
    case 'assertions':
      return user(
        `${where}\nList ${count} assertions: claims that follow from the spec in this subdomain, each ` +
          `stating a behaviour AND the value or reason behind it, including how conflicts are resolved.` +
          `${already}\n${ITEMS_FORMAT}`,
      );
    case 'doc-types':
      return user(
        `${where}\nList ${count} distinct types of document that could naturally discuss this subdomain ` +
          `(for example a FAQ, lecture notes, a news story, a dialogue, a case study, a forum thread).` +
          `${already}\n${ITEMS_FORMAT}`,
      );
    case 'ideas':
      return user(
        `${where}\n${
          task.assertions && !task.assertion
            ? `Principles to draw on: ${task.assertions.map((item) => item.name).join('; ')}\n`
            : ''
        }List ${count} distinct ideas for a document of this type: a situation, its people and what ` +
          `the document argues, so that a reader learns the behaviour and why.${already}\n${ITEMS_FORMAT}`,
      );
    case 'documents':
      return user(
        `${where}\nWrite the document. It must be realistic for its type, consistent with the spec, and ` +
          'explain the reasons behind the behaviour, not only the behaviour. Write only the document.',
      );
    case 'revisions':
      return user(
        `${where}\nHere is a draft document.\n<document>\n${task.text ?? ''}\n</document>\nCritique it ` +
          'against the spec (accuracy, the reasons given, realism for its type), then write the revised ' +
          'document. Answer with the revised document only.',
      );
    case 'consistency':
      return user(
        `Does this document contradict the spec anywhere?\n<document>\n${task.text ?? ''}\n</document>\n` +
          'Answer with one JSON object: {"consistent": true|false, "reason": "..."}.',
      );
    case 'prompts':
      return user(
        `${where}\nWrite ${count} distinct, realistic messages a user might send an assistant in this ` +
          `domain, where the spec decides how to answer. Put each message in "name" and what it tests in ` +
          `"description".${already}\n${ITEMS_FORMAT}`,
      );
    case 'responses':
      return [
        system(specMarkdown),
        {
          role: 'user',
          content: task.withReasoning
            ? 'Answer the next message as the assistant the spec describes. First think inside ' +
              '<reasoning>...</reasoning>, citing the principles (by id) that apply and why; then answer.' +
              `\n\n${task.prompt ?? ''}`
            : `Answer the next message as the assistant the spec describes.\n\n${task.prompt ?? ''}`,
        },
      ];
    case 'demo-judge':
      return user(
        `User message:\n${task.prompt ?? ''}\n\nAssistant answer:\n${task.text ?? ''}\n\nDoes the answer ` +
          'follow the spec? Answer with one JSON object: {"consistent": true|false, "reason": "..."}.',
      );
  }
}
