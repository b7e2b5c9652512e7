/**
 * Splits documents into pieces of at most `maxCharacters`, at paragraph boundaries (then sentence
 * boundaries for a long paragraph), so that a model trained with a short context sees every part of
 * a document — the conflict guidance at its end included — instead of only its truncated start.
 */
export function chunkText(text: string, maxCharacters: number): string[] {
  const pieces: string[] = [];
  // A long paragraph is cut at line breaks and at sentence ends (. ! or ? then a space, so that
  // "$24.99" stays whole); each unit remembers what separated it from the one before.
  const units = text
    .split(/\n\s*\n/)
    .map((paragraph) => paragraph.trim())
    .filter((paragraph) => paragraph.length > 0)
    .flatMap((paragraph) =>
      (paragraph.length <= maxCharacters ? [paragraph] : paragraph.split('\n')).flatMap(
        (line, lineIndex) =>
          (line.length <= maxCharacters ? [line] : line.split(/(?<=[.!?])[ \t]+/))
            .map((sentence, index) => ({
              text: sentence.trim(),
              separator: index > 0 ? ' ' : lineIndex > 0 ? '\n' : '\n\n',
            }))
            .filter((unit) => unit.text.length > 0),
      ),
    );
  let current = '';
  for (const unit of units) {
    const joined = current ? `${current}${unit.separator}${unit.text}` : unit.text;
    if (joined.length <= maxCharacters || !current) {
      current = joined;
    } else {
      pieces.push(current);
      current = unit.text;
    }
  }
  if (current) pieces.push(current);
  // A single sentence longer than the limit is cut; the worker would truncate it anyway.
  return pieces.flatMap((piece) =>
    piece.length <= maxCharacters
      ? [piece]
      : Array.from({ length: Math.ceil(piece.length / maxCharacters) }, (_, i) =>
          piece.slice(i * maxCharacters, (i + 1) * maxCharacters),
        ),
  );
}

export function chunkDocuments(texts: string[], maxCharacters: number): Array<{ text: string }> {
  return texts.flatMap((text) => chunkText(text, maxCharacters).map((piece) => ({ text: piece })));
}
