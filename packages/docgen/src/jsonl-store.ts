import { closeSync, existsSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * An append-only JSONL file of records. Each record is one `write(2)` of a whole line on an O_APPEND
 * descriptor, so a killed process leaves at most one unterminated last line; opening the file cuts
 * that line off, so a torn record is never read and never followed by a good one.
 */
export class JsonlStore<T> {
  private fd: number | undefined;
  private readonly records: T[] = [];

  private constructor(readonly path: string) {}

  static async open<T>(path: string): Promise<JsonlStore<T>> {
    await mkdir(dirname(path), { recursive: true });
    const store = new JsonlStore<T>(path);
    store.load();
    return store;
  }

  private load(): void {
    if (!existsSync(this.path)) {
      this.fd = openSync(this.path, 'a');
      return;
    }
    const bytes = readFileSync(this.path);
    const end = bytes.lastIndexOf(0x0a) + 1;
    const text = bytes.subarray(0, end).toString('utf8');
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      this.records.push(JSON.parse(line) as T);
    }
    this.fd = openSync(this.path, 'r+');
    if (end < bytes.length) ftruncateSync(this.fd, end);
    closeSync(this.fd);
    this.fd = openSync(this.path, 'a');
  }

  /** Records already in the file when it was opened, plus those appended since. */
  all(): readonly T[] {
    return this.records;
  }

  append(record: T): void {
    if (this.fd === undefined) throw new Error(`${this.path} is closed`);
    const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
    let written = 0;
    while (written < line.length) written += writeSync(this.fd, line, written);
    this.records.push(record);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Writes a whole file through a temporary name and a rename: readers see the old file or the new. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, data);
  await rename(temporary, path);
}

export function toJsonl(records: readonly unknown[]): string {
  return records.map((record) => `${JSON.stringify(record)}\n`).join('');
}
