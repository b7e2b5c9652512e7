import { open } from 'node:fs/promises';
import type { DatasetFormatName } from './curriculum.js';
import { DEFAULT_MAX_RECORD_BYTES, detectFormat } from './validate-jsonl.js';

const CHUNK_BYTES = 1024 * 1024;

/**
 * The format a JSONL file declares with its first record: `{"text": …}` → text, `{"messages": […]}`
 * → chat. Only the lines up to that record are read; whether it (or any other line) is valid is the
 * worker's check. `format` is undefined when the first non-blank line is not such a record (or is
 * longer than `maxRecordBytes`), with that line's number.
 */
export async function sniffDatasetFormat(
  path: string,
  maxRecordBytes = DEFAULT_MAX_RECORD_BYTES,
): Promise<{ format: DatasetFormatName | undefined; line: number }> {
  const handle = await open(path, 'r');
  try {
    const chunk = Buffer.alloc(CHUNK_BYTES);
    const pieces: Buffer[] = [];
    let held = 0;
    let number = 1;
    for (let position = 0; ; ) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      const data = chunk.subarray(0, bytesRead);
      let start = 0;
      for (let newline = data.indexOf(10); newline !== -1; newline = data.indexOf(10, start)) {
        const found = classify(Buffer.concat([...pieces, data.subarray(start, newline)]), number);
        if (found) return found;
        pieces.length = 0;
        held = 0;
        number += 1;
        start = newline + 1;
      }
      pieces.push(Buffer.from(data.subarray(start)));
      held += data.length - start;
      if (held > maxRecordBytes) return { format: undefined, line: number };
    }
    return classify(Buffer.concat(pieces), number) ?? { format: undefined, line: number };
  } finally {
    await handle.close();
  }
}

/** The format of a non-blank line (undefined inside when it is no record); undefined when blank. */
function classify(
  bytes: Buffer,
  line: number,
): { format: DatasetFormatName | undefined; line: number } | undefined {
  const text = bytes.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return { format: detectFormat(JSON.parse(text)), line };
  } catch {
    return { format: undefined, line };
  }
}
