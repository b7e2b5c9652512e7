// Trains a small byte-level BPE tokenizer.json (GPT-2 style split, byte-to-unicode map, merges by
// pair frequency) on a text, so tests count tokens with a real BPE file without downloading one.

const SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

function bytesToUnicode(): string[] {
  const printable = new Set<number>();
  for (let b = 33; b <= 126; b += 1) printable.add(b);
  for (let b = 161; b <= 172; b += 1) printable.add(b);
  for (let b = 174; b <= 255; b += 1) printable.add(b);
  const map: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b += 1)
    map[b] = String.fromCodePoint(printable.has(b) ? b : 256 + extra++);
  return map;
}

export function trainBpe(text: string, merges: number): Record<string, unknown> {
  const chars = bytesToUnicode();
  const words = new Map<string, number>();
  for (const match of text.matchAll(SPLIT)) {
    const word = [...Buffer.from(match[0], 'utf8')].map((byte) => chars[byte]).join(' ');
    words.set(word, (words.get(word) ?? 0) + 1);
  }
  let pieces = [...words].map(([word, count]) => ({ parts: word.split(' '), count }));
  const learnt: string[] = [];
  for (let round = 0; round < merges; round += 1) {
    const pairs = new Map<string, number>();
    for (const { parts, count } of pieces)
      for (let i = 0; i < parts.length - 1; i += 1) {
        const pair = `${parts[i]} ${parts[i + 1]}`;
        pairs.set(pair, (pairs.get(pair) ?? 0) + count);
      }
    const best = [...pairs].sort((a, b) => b[1] - a[1])[0];
    if (!best || best[1] < 2) break;
    learnt.push(best[0]);
    const [a, b] = best[0].split(' ');
    pieces = pieces.map(({ parts, count }) => {
      const merged: string[] = [];
      for (let i = 0; i < parts.length; i += 1) {
        if (parts[i] === a && parts[i + 1] === b) {
          merged.push(`${a}${b}`);
          i += 1;
        } else merged.push(parts[i] as string);
      }
      return { parts: merged, count };
    });
  }
  return {
    model: { type: 'BPE', vocab: {}, merges: learnt },
    pre_tokenizer: { type: 'ByteLevel' },
  };
}
