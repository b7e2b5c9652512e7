#!/usr/bin/env node
import { existsSync } from 'node:fs';
// Runs every benchmark under bench/ (each folder's bench.mjs, or only those named on the command
// line) and prints each figure beside its baseline with the ratio and the target. Benchmarks import
// the built packages, so run scripts/setup.sh (or pnpm build) first.
import { readdir } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const names = (await readdir(here, { withFileTypes: true }))
  .filter((entry) => entry.isDirectory() && existsSync(join(here, entry.name, 'bench.mjs')))
  .map((entry) => entry.name)
  .filter((name) => only.length === 0 || only.includes(name))
  .sort();

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
console.log(`machine: ${machine}\n`);

const rows = [];
let failed = false;
for (const name of names) {
  process.stdout.write(`running ${name}…\n`);
  try {
    const module = await import(pathToFileURL(join(here, name, 'bench.mjs')).href);
    const figures = await module.default({ log: (line) => console.log(`  ${line}`) });
    for (const figure of figures) rows.push({ bench: name, ...figure });
  } catch (error) {
    failed = true;
    console.error(`  ${name} failed: ${error?.stack ?? error}`);
  }
}

const format = (value, unit) =>
  value === undefined ? '' : `${Number(value).toPrecision(4)} ${unit ?? ''}`.trim();
const table = [['benchmark', 'figure', 'value', 'baseline', 'ratio', 'target']].concat(
  rows.map((row) => [
    row.bench,
    row.name,
    format(row.value, row.unit),
    row.baseline ? `${format(row.baseline.value, row.unit)} (${row.baseline.name})` : '',
    row.baseline ? `${(row.value / row.baseline.value).toFixed(2)}×` : '',
    row.target ?? '',
  ]),
);
const widths = table[0].map((_, column) =>
  Math.max(...table.map((row) => String(row[column]).length)),
);
console.log('');
for (const row of table)
  console.log(
    row
      .map((cell, column) => String(cell).padEnd(widths[column]))
      .join('  ')
      .trimEnd(),
  );
if (failed) process.exitCode = 1;
