// Where `{name}` placeholders are in a text, and where braces are something else: code (fenced or
// inline), math ($…$, $$…$$, \(…\), \[…\]) and LaTeX arguments (\frac{d}{dx}, x^{2}, a_{i}).

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Ranges [start, end) of the text where braces are not placeholders. */
function maskedRanges(text: string): [number, number][] {
  const ranges: [number, number][] = [];
  const add = (pattern: RegExp) => {
    for (const match of text.matchAll(pattern)) {
      const start = match.index ?? 0;
      ranges.push([start, start + match[0].length]);
    }
  };
  add(/^[ \t]*(`{3,}|~{3,})[^\n]*\n[\s\S]*?(?:^[ \t]*\1[ \t]*$|(?![\s\S]))/gm); // fenced code
  add(/(`+)[^`][\s\S]*?\1/g); // inline code (may span lines)
  add(/\$\$[\s\S]+?\$\$/g); // display math
  add(/\\\([\s\S]+?\\\)|\\\[[\s\S]+?\\\]/g); // \( … \) and \[ … \]
  add(/(?<![\\$\w])\$(?=\S)[^$\n]*?\S\$(?!\d)/g); // inline math: $x^{2}$, not "$7 and $8"
  return ranges;
}

export interface PlaceholderMatch {
  name: string;
  /** Offset of the opening brace. */
  index: number;
}

/**
 * Every `{name}` that is a template placeholder: not in code or math, and not a LaTeX argument (a
 * brace group right after `\command`, `}`, `^` or `_`).
 */
export function scanPlaceholders(text: string): PlaceholderMatch[] {
  if (!text.includes('{')) return [];
  const ranges = maskedRanges(text);
  const out: PlaceholderMatch[] = [];
  for (const match of text.matchAll(PLACEHOLDER)) {
    const index = match.index ?? 0;
    if (ranges.some(([start, end]) => index >= start && index < end)) continue;
    const before = text.slice(Math.max(0, index - 40), index);
    if (/(\\[A-Za-z]+\*?|[}^_])$/.test(before)) continue;
    out.push({ name: match[1] ?? '', index });
  }
  return out;
}

/** Replaces the placeholders scanPlaceholders finds; everything else is left as written. */
export function replacePlaceholders(
  text: string,
  value: (name: string) => string | undefined,
): string {
  const matches = scanPlaceholders(text);
  if (matches.length === 0) return text;
  let out = '';
  let at = 0;
  for (const { name, index } of matches) {
    const replacement = value(name);
    if (replacement === undefined) continue;
    out += text.slice(at, index) + replacement;
    at = index + name.length + 2;
  }
  return out + text.slice(at);
}
