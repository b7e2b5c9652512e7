/**
 * Splits documents into pieces of at most `maxCharacters`, at paragraph boundaries (then sentence
 * boundaries for a long paragraph), so that a model trained with a short context sees every part of
 * a document — the conflict guidance at its end included — instead of only its truncated start.
 */
export function chunkText(text: string, maxCharacters: number): string[] {
  const pieces: string[] = [];
  const units = text
    .split(/\n\s*\n/)
    .flatMap((paragraph) =>
      paragraph.length <= maxCharacters
        ? [paragraph]
        : (paragraph.match(/[^.!?\n]+[.!?]*\s*/g) ?? [paragraph]),
    )
    .map((unit) => unit.trim())
    .filter((unit) => unit.length > 0);
  let current = '';
  for (const unit of units) {
    const joined = current ? `${current}\n\n${unit}` : unit;
    if (joined.length <= maxCharacters || !current) {
      current = joined;
    } else {
      pieces.push(current);
      current = unit;
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
