import type { ListItem, MarkdownBlock } from './markdown-blocks.js';

/** The usual chains of command, highest first, for documents that do not spell theirs out. */
const KNOWN_ORDER = ['root', 'platform', 'system', 'developer', 'operator', 'user', 'guideline'];

const ITEM_NAME = /^\*{0,2}([A-Za-z][A-Za-z0-9_-]*)\*{0,2}\s*(?::|\*\*:|—|–|-\s)/;

/**
 * Orders the authority levels a document's principles use, highest first. The document's own list
 * wins: the first list whose items mostly start with level names (`- **Root**: …`, `1. **System**:
 * …`; an item such as `*No Authority*: …` is passed over) and names at least two of the levels used
 * gives the order (levels it lists but no principle uses are
 * kept, so the chain reads as written). Without such a list, known names take their usual places
 * (root, platform, system, developer, operator, user, guideline); unknown ones follow in the order
 * the document first uses them.
 */
export function inferAuthorityLevels(
  used: readonly string[],
  blocks: readonly MarkdownBlock[],
): string[] {
  const distinct = [...new Set(used)];
  const byLower = new Map(distinct.map((level) => [level.toLowerCase(), level]));
  for (const block of blocks) {
    if (block.type !== 'list') continue;
    const named = namesOf(block.items);
    const hits = named.filter((name) => byLower.has(name.toLowerCase()));
    if (new Set(hits.map((name) => name.toLowerCase())).size < Math.min(2, distinct.length)) {
      continue;
    }
    if (named.length * 2 < block.items.length) continue;
    const ordered = [
      ...new Set(named.map((name) => byLower.get(name.toLowerCase()) ?? name.toLowerCase())),
    ];
    return [...ordered, ...distinct.filter((level) => !ordered.includes(level))];
  }
  const rank = (level: string) => {
    const at = KNOWN_ORDER.indexOf(level.toLowerCase());
    return at < 0 ? KNOWN_ORDER.length + distinct.indexOf(level) : at;
  };
  return [...distinct].sort((a, b) => rank(a) - rank(b));
}

function namesOf(items: readonly ListItem[]): string[] {
  return items.flatMap((item) => {
    const match = ITEM_NAME.exec(item.text);
    return match ? [match[1] ?? ''] : [];
  });
}
