import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const docs = join(root, 'docs');

/** Every ```ts block of the user guide, as a module beside the page it comes from. */
function snippets(): Map<string, string> {
  const files = new Map<string, string>();
  for (const page of readdirSync(docs).filter((name) => name.endsWith('.md'))) {
    const text = readFileSync(join(docs, page), 'utf8');
    let index = 0;
    for (const match of text.matchAll(/```ts\n([\s\S]*?)```/g)) {
      index += 1;
      files.set(join(docs, `${page}.snippet-${index}.ts`), `${match[1]}\nexport {};\n`);
    }
  }
  return files;
}

describe('the user guide', () => {
  it('has TypeScript snippets that type-check against the packages as they are', () => {
    const files = snippets();
    expect(files.size).toBeGreaterThan(0);
    const config = ts.getParsedCommandLineOfConfigFile(
      join(root, 'tsconfig.json'),
      {},
      { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
    );
    if (!config) throw new Error('cannot read tsconfig.json');
    const host = ts.createCompilerHost(config.options);
    const { fileExists, readFile } = host;
    host.fileExists = (file) => files.has(file) || fileExists.call(host, file);
    host.readFile = (file) => files.get(file) ?? readFile.call(host, file);
    const program = ts.createProgram({
      rootNames: [...files.keys()],
      options: { ...config.options, noEmit: true },
      host,
    });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((diagnostic) => diagnostic.file && files.has(diagnostic.file.fileName))
      .map((diagnostic) => {
        const { line } = diagnostic.file?.getLineAndCharacterOfPosition(diagnostic.start ?? 0) ?? {
          line: 0,
        };
        return `${diagnostic.file?.fileName}:${line + 1}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
      });
    expect(problems).toEqual([]);
  }, 120_000);
});
