import type { Principle, Spec } from '@midspec/spec';
import type { NamedItem } from './provider.js';
import {
  assistantName,
  capitalize,
  conflictBlock,
  exampleBlocks,
  firstSentence,
  type Phrasing,
  rationaleBlock,
  statementBlock,
  subRuleLines,
  titleOf,
} from './template-material.js';
import { sceneBlock } from './template-scene.js';

export interface DocumentMaterial {
  spec: Spec;
  principle: Principle;
  assertion?: NamedItem;
  idea: NamedItem;
  domain: NamedItem;
  phrasing: Phrasing;
}

interface Blocks {
  title: string;
  statement: string;
  rationale: string;
  subRules: string[];
  examples: string[];
  conflict: string;
  assertion: string;
  idea: string;
  assistant: string;
  summary: string;
}

function blocks(material: DocumentMaterial): Blocks {
  const { spec, principle, phrasing } = material;
  return {
    title: titleOf(principle),
    statement: statementBlock(principle, phrasing),
    rationale: rationaleBlock(spec, principle, phrasing),
    subRules: subRuleLines(principle),
    examples: phrasing.random.shuffle(exampleBlocks(spec, principle, phrasing)),
    conflict: conflictBlock(spec, principle, phrasing),
    assertion: material.assertion
      ? `${material.assertion.name}${material.assertion.description ? ` ${material.assertion.description}` : ''}`
      : '',
    idea: `${material.idea.name}. ${material.idea.description}`.trim(),
    assistant: assistantName(spec),
    summary:
      `${phrasing.say('summary')}: ${firstSentence(principle.statement)} ${principle.rationale ? firstSentence(principle.rationale) : ''}`.trim(),
  };
}

const join = (...parts: (string | false | undefined)[]) =>
  parts.filter((part) => part && part.trim() !== '').join('\n\n');
const bullets = (lines: string[]) => lines.map((line) => `- ${line}`).join('\n');

type Renderer = (b: Blocks, m: DocumentMaterial) => string;

/** The document types the template writes; the names double as the doc-types stage's answers. */
export const TEMPLATE_DOC_TYPES: { name: string; description: string; render: Renderer }[] = [
  {
    name: 'FAQ',
    description: 'Questions and answers about the guideline and its reasons.',
    render: (b, m) =>
      join(
        `# ${b.title}: frequently asked questions`,
        `**What does ${b.assistant} do here?**\n${b.statement}`,
        `**Why?**\n${b.rationale}`,
        b.subRules.length > 0 && `**Are there finer points?**\n${bullets(b.subRules)}`,
        b.examples.length > 0 && `**What does that look like?**\n${b.examples.join('\n\n')}`,
        b.conflict && `**What if the considerations conflict?**\n${b.conflict}`,
        `**Where does this come up?**\n${capitalize(b.idea)} It is a question of ${m.domain.name}.`,
      ),
  },
  {
    name: 'lecture notes',
    description: 'Notes from a class that teaches the guideline, with worked cases.',
    render: (b, m) =>
      join(
        `Lecture notes — ${m.domain.name}: ${b.title}`,
        `1. The behaviour. ${b.statement}`,
        `2. The value behind it. ${b.rationale}`,
        b.subRules.length > 0 && `3. Details to remember:\n${bullets(b.subRules)}`,
        b.examples.length > 0 && `4. Worked cases.\n${b.examples.join('\n\n')}`,
        b.conflict && `5. Hard cases. ${b.conflict}`,
        b.assertion && `Key claim for the exam: ${b.assertion}`,
        `Discussion prompt: ${b.idea}`,
      ),
  },
  {
    name: 'news story',
    description: 'A short news report about how an assistant handles the situation.',
    render: (b, m) =>
      join(
        `${b.title}: how an AI assistant decides`,
        `${capitalize(b.idea)}`,
        `Asked about it, the people who trained ${b.assistant} pointed to its guidelines. ${b.statement}`,
        `${b.rationale}`,
        b.examples[0] && `In one exchange reviewed for this story:\n${b.examples[0]}`,
        b.conflict && `The guidelines also cover the harder cases. ${b.conflict}`,
        `${b.summary} It is, observers note, a small but telling choice in ${m.domain.name}.`,
      ),
  },
  {
    name: 'dialogue',
    description: 'A conversation in which someone asks why the assistant behaves this way.',
    render: (b, m) => {
      const assistant = capitalize(b.assistant);
      return join(
        `A conversation about ${m.domain.name}. ${capitalize(b.idea)}`,
        `Person: What would you recommend here, and why?`,
        `${assistant}: ${m.principle.statement.trim()}`,
        `Person: Why that, though?`,
        `${assistant}: ${b.rationale.replace(/\n\n/g, ' ')}`,
        b.subRules.length > 0 &&
          `Person: Anything else I should know?\n${assistant}: ${b.subRules.join(' ')}`,
        b.conflict &&
          `Person: And when the usual answer and the reason behind it disagree?\n${assistant}: ${b.conflict.replace(/\n/g, ' ')}`,
        b.examples.length > 0 && `Person: Can you show me?\n${b.examples.join('\n\n')}`,
      );
    },
  },
  {
    name: 'case study',
    description: 'A case study that walks through one situation and the reasoning applied.',
    render: (b, m) =>
      join(
        `Case study: ${b.title}`,
        `Background. ${capitalize(b.idea)} The setting is ${m.domain.name}.`,
        `The guideline that applies. ${b.statement}`,
        `Analysis. ${b.rationale}`,
        b.subRules.length > 0 && `Checks applied:\n${bullets(b.subRules)}`,
        b.examples.length > 0 && `What happened:\n${b.examples.join('\n\n')}`,
        b.conflict && `Complication. ${b.conflict}`,
        `Lesson. ${b.summary}`,
      ),
  },
  {
    name: 'forum thread',
    description: 'A forum thread where people discuss the behaviour and its reasons.',
    render: (b, m) =>
      join(
        `Thread: ${b.title} — anyone else noticed this?`,
        `original poster: ${capitalize(b.idea)} Why does ${b.assistant} answer the way it does?`,
        `reply: It's in its guidelines. ${b.statement}`,
        `reply: And the reason is the interesting part. ${b.rationale}`,
        b.examples[0] && `reply: Here's what I got when I asked:\n${b.examples[0]}`,
        b.conflict && `reply: There's even guidance for the tricky cases. ${b.conflict}`,
        `original poster: Makes sense for ${m.domain.name}. ${b.summary}`,
      ),
  },
  {
    name: 'blog post',
    description: 'A personal blog post reflecting on the guideline.',
    render: (b) =>
      join(
        `${b.title}`,
        `I have been thinking about a small decision: ${b.idea}`,
        `${b.statement}`,
        `What convinced me was the reasoning. ${b.rationale}`,
        b.subRules.length > 0 && `A few details matter:\n${bullets(b.subRules)}`,
        b.examples.join('\n\n'),
        b.conflict,
        b.summary,
      ),
  },
  {
    name: 'textbook excerpt',
    description: 'A section of a textbook chapter, with definitions and review questions.',
    render: (b, m) =>
      join(
        `Section: ${b.title}`,
        `In ${m.domain.name}, an assistant often faces the following. ${b.idea}`,
        `Guideline. ${b.statement}`,
        `Rationale. ${b.rationale}`,
        b.subRules.length > 0 && `Refinements.\n${bullets(b.subRules)}`,
        b.examples.length > 0 && `Examples.\n${b.examples.join('\n\n')}`,
        b.conflict && `When considerations conflict. ${b.conflict}`,
        `Review question: ${m.principle.statement.trim()} Explain why, in terms of the value it serves.`,
      ),
  },
  {
    name: 'advice column',
    description: 'A reader writes in; the columnist answers with the guideline and its reasons.',
    render: (b) =>
      join(
        `Dear columnist: ${capitalize(b.idea)} What should I do?`,
        `Answer: ${b.statement}`,
        b.rationale,
        b.examples.length > 0 && `Here is how that plays out:\n${b.examples.join('\n\n')}`,
        b.conflict,
        b.summary,
      ),
  },
  {
    name: 'internal memo',
    description: 'A memo to a team explaining a guideline and how to apply it.',
    render: (b, m) =>
      join(
        `MEMO — ${b.title}`,
        `To: everyone working on ${m.domain.name}. Context: ${b.idea}`,
        `Policy. ${b.statement}`,
        `Why we do this. ${b.rationale}`,
        b.subRules.length > 0 && `How to apply it:\n${bullets(b.subRules)}`,
        b.examples.length > 0 && `Reference cases:\n${b.examples.join('\n\n')}`,
        b.conflict && `Edge cases. ${b.conflict}`,
      ),
  },
];

export function renderTemplateDocument(docTypeName: string, material: DocumentMaterial): string {
  const type =
    TEMPLATE_DOC_TYPES.find((item) => item.name.toLowerCase() === docTypeName.toLowerCase()) ??
    material.phrasing.random.pick(TEMPLATE_DOC_TYPES);
  const rendered = type.render(blocks(material), material);
  // The scene goes after the title: documents on the same principle and type then differ in more
  // than a line, so they survive near-duplicate removal as distinct documents.
  const cut = rendered.indexOf('\n\n');
  const withScene =
    cut < 0
      ? rendered
      : `${rendered.slice(0, cut)}\n\n${sceneBlock(material)}${rendered.slice(cut)}`;
  // Template variables at the start of a sentence ("{model_name} helps…") render in lower case.
  return withScene.replace(
    /([.!?]\s+)([a-z])/g,
    (_, gap: string, letter: string) => `${gap}${letter.toUpperCase()}`,
  );
}
