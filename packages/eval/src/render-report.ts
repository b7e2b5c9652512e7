import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunComparison } from './compare-runs.js';
import type { Interval } from './proportion-intervals.js';
import { scoringSections } from './render-scoring.js';
import { type RunSummary, summarizeRun } from './summarize-run.js';

const PALETTE = [
  '#4c78a8',
  '#f58518',
  '#54a24b',
  '#e45756',
  '#72b7b2',
  '#b279a2',
  '#9d755d',
  '#bab0ac',
];

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

const percent = (value: number) => (Number.isNaN(value) ? '–' : `${(100 * value).toFixed(1)} %`);
const interval = ({ lower, upper }: Interval) => `[${percent(lower)}, ${percent(upper)}]`;
const reasons = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ') || '0';

interface Bar {
  group: string;
  series: string;
  value: number;
  interval: Interval;
  note: string;
}

/** Horizontal bars with error bars: one group per condition, one bar per arm. */
function barChart(
  name: string,
  title: string,
  bars: Bar[],
  series: string[],
  reference?: number,
): string {
  const groups = [...new Set(bars.map((bar) => bar.group))];
  const barHeight = 14;
  const groupHeight = series.length * barHeight + 12;
  const left = 260;
  const plotWidth = 460;
  const top = 30;
  const height = top + groups.length * groupHeight + 30;
  const x = (value: number) => left + plotWidth * Math.max(0, Math.min(1, value));
  const parts: string[] = [];
  parts.push(`<text x="${left}" y="18" class="title">${escapeHtml(title)}</text>`);
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(
      `<line x1="${x(tick)}" x2="${x(tick)}" y1="${top - 4}" y2="${height - 24}" class="grid"/>`,
    );
    parts.push(
      `<text x="${x(tick)}" y="${height - 8}" class="tick" text-anchor="middle">${tick * 100}%</text>`,
    );
  }
  if (reference !== undefined) {
    parts.push(
      `<line x1="${x(reference)}" x2="${x(reference)}" y1="${top - 4}" y2="${height - 24}" class="reference"/>`,
    );
  }
  groups.forEach((group, g) => {
    const y0 = top + g * groupHeight;
    parts.push(
      `<text x="${left - 8}" y="${y0 + (series.length * barHeight) / 2 + 4}" text-anchor="end" class="label">${escapeHtml(group)}</text>`,
    );
    series.forEach((name, s) => {
      const bar = bars.find((candidate) => candidate.group === group && candidate.series === name);
      if (!bar) return;
      const y = y0 + s * barHeight;
      if (
        Number.isNaN(bar.value) ||
        Number.isNaN(bar.interval.lower) ||
        Number.isNaN(bar.interval.upper)
      ) {
        parts.push(
          `<text x="${left + 4}" y="${y + barHeight - 3}" class="tick empty">${escapeHtml(name)}: no scored samples</text>`,
        );
        return;
      }
      const value = bar.value;
      const color = PALETTE[s % PALETTE.length];
      parts.push(
        `<rect class="bar" x="${left}" y="${y + 1}" width="${(x(value) - left).toFixed(1)}" height="${barHeight - 3}" fill="${color}"><title>${escapeHtml(`${name} · ${group}: ${percent(bar.value)} ${interval(bar.interval)} ${bar.note}`)}</title></rect>`,
      );
      const yMid = y + barHeight / 2;
      parts.push(
        `<g class="error-bar"><line x1="${x(bar.interval.lower).toFixed(1)}" x2="${x(bar.interval.upper).toFixed(1)}" y1="${yMid}" y2="${yMid}"/><line x1="${x(bar.interval.lower).toFixed(1)}" x2="${x(bar.interval.lower).toFixed(1)}" y1="${yMid - 4}" y2="${yMid + 4}"/><line x1="${x(bar.interval.upper).toFixed(1)}" x2="${x(bar.interval.upper).toFixed(1)}" y1="${yMid - 4}" y2="${yMid + 4}"/></g>`,
      );
    });
  });
  const legend = series
    .map(
      (name, s) =>
        `<span class="key"><i style="background:${PALETTE[s % PALETTE.length]}"></i>${escapeHtml(name)}</span>`,
    )
    .join(' ');
  return `<figure><svg class="chart" data-chart="${name}" width="${left + plotWidth + 40}" height="${height}" role="img" aria-label="${escapeHtml(title)}">${parts.join('')}</svg><figcaption>${legend}</figcaption></figure>`;
}

function table(headers: string[], rows: string[][]): string {
  const head = headers.map((cell) => `<th>${escapeHtml(cell)}</th>`).join('');
  const body = rows
    .map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`)
    .join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function conditionRows(summary: RunSummary): string[][] {
  return summary.conditions.map((row) => [
    row.arm,
    row.condition,
    `${row.wilson.successes}/${row.scored}`,
    percent(row.wilson.rate),
    interval(row.wilson),
    interval(row.clopperPearson),
    reasons(row.unscored),
  ]);
}

const CONDITION_HEADERS = [
  'Arm',
  'Condition',
  'Count',
  'Rate',
  'Wilson 95 %',
  'Clopper-Pearson 95 %',
  'Unscored',
];

/** The static HTML report: charts with error bars per arm and condition, position bias, unscored counts. */
export function renderHtmlReport(summary: RunSummary): string {
  const { manifest } = summary;
  const series = summary.arms.map((arm) => arm.arm);
  const rates = barChart(
    'rates',
    `Share that ${summary.rateLabel}, with Wilson intervals`,
    summary.conditions.map((row) => ({
      group: row.condition,
      series: row.arm,
      value: row.wilson.rate,
      interval: row.wilson,
      note: `(n=${row.scored})`,
    })),
    series,
  );
  const macro = barChart(
    'macro',
    'Macro average over conditions, cluster-bootstrap intervals',
    summary.arms.map((arm) => ({
      group: 'all conditions',
      series: arm.arm,
      value: arm.macro.estimate,
      interval: arm.macro,
      note: '',
    })),
    series,
  );
  const bias =
    summary.positionBias.length === 0
      ? ''
      : `<h2>Position bias</h2><p>Share of choices that picked the option shown first; 50 % (the dashed line) is none. Both orders of every item are scored, so position bias cancels out of the rates above.</p>${barChart(
          'position-bias',
          'Chose the first-shown option',
          summary.positionBias.map((row) => ({
            group: row.condition,
            series: row.arm,
            value: row.firstPosition.rate,
            interval: row.firstPosition,
            note: `consistent across orders ${percent(row.consistent)}`,
          })),
          series,
          0.5,
        )}${table(
          [
            'Arm',
            'Condition',
            'First-shown chosen',
            '95 %',
            'Items with both orders',
            'Same choice in both orders',
          ],
          summary.positionBias.map((row) => [
            row.arm,
            row.condition,
            percent(row.firstPosition.rate),
            interval(row.firstPosition),
            String(row.pairedItems),
            percent(row.consistent),
          ]),
        )}`;
  const warnings = [
    ...manifest.warnings,
    ...(summary.skippedLines > 0
      ? [`${summary.skippedLines} unreadable line(s) in samples.jsonl were skipped`]
      : []),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(`midspec eval · ${manifest.suite.id}`)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:980px;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}th{background:#f4f4f4}
.chart .title{font-weight:600}.chart .label,.chart .tick{font-size:11px;fill:#444}.chart .grid{stroke:#eee}
.chart .reference{stroke:#888;stroke-dasharray:4 3}.error-bar line{stroke:#222;stroke-width:1.2}
.key{margin-right:1rem}.key i{display:inline-block;width:10px;height:10px;margin-right:4px}.warning{background:#fff4e5;border-left:4px solid #f58518;padding:.5rem 1rem}
</style></head><body>
<h1>${escapeHtml(manifest.suite.id)} <small>(${escapeHtml(manifest.suite.kind)})</small></h1>
<p>Judge: ${escapeHtml(manifest.judge ?? 'none')} · updated ${escapeHtml(manifest.updatedAt)}</p>
${warnings.map((warning) => `<p class="warning">⚠ ${escapeHtml(warning)}</p>`).join('\n')}
<h2>Rates by condition</h2>
<p>Unscored samples (judge parse failures, judge refusals, provider errors) are excluded from every rate and counted below; they are never treated as aligned or misaligned.</p>
${rates}
${table(CONDITION_HEADERS, conditionRows(summary))}
<h2>Arms</h2>
${macro}
${table(
  [
    'Arm',
    'Model',
    'Scored',
    'Unscored',
    'Macro average',
    '95 % (cluster bootstrap)',
    'Tokens in/out',
    'Cost',
  ],
  summary.arms.map((arm) => [
    arm.arm,
    arm.model,
    String(arm.scored),
    reasons(arm.unscored),
    percent(arm.macro.estimate),
    interval(arm.macro),
    `${arm.tokens.input}/${arm.tokens.output}`,
    arm.cost === null ? '–' : `$${arm.cost.toFixed(4)}`,
  ]),
)}
${bias}
${scoringSections(summary)
  .map(
    (section) =>
      `<h2>${escapeHtml(section.title)}</h2>\n${section.warnings.map((warning) => `<p class="warning">⚠ ${escapeHtml(warning)}</p>`).join('\n')}<p>${escapeHtml(section.note)}</p>\n${table(section.headers, section.rows)}`,
  )
  .join('\n')}
</body></html>
`;
}

function markdownTable(headers: string[], rows: string[][]): string {
  const line = (cells: string[]) =>
    `| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The same figures as a Markdown table. */
export function renderMarkdownReport(summary: RunSummary): string {
  const sections = [
    `# ${summary.manifest.suite.id} (${summary.manifest.suite.kind})`,
    `Rate: share that ${summary.rateLabel}. Unscored samples are excluded and counted.`,
    ...summary.manifest.warnings.map((warning) => `> ⚠ ${warning}`),
    markdownTable(CONDITION_HEADERS, conditionRows(summary)),
    markdownTable(
      ['Arm', 'Scored', 'Unscored', 'Macro average', '95 % (cluster bootstrap)'],
      summary.arms.map((arm) => [
        arm.arm,
        String(arm.scored),
        reasons(arm.unscored),
        percent(arm.macro.estimate),
        interval(arm.macro),
      ]),
    ),
  ];
  if (summary.positionBias.length > 0) {
    sections.push(
      markdownTable(
        ['Arm', 'Condition', 'First-shown chosen', '95 %', 'Same choice in both orders'],
        summary.positionBias.map((row) => [
          row.arm,
          row.condition,
          percent(row.firstPosition.rate),
          interval(row.firstPosition),
          percent(row.consistent),
        ]),
      ),
    );
  }
  for (const section of scoringSections(summary)) {
    sections.push(
      [
        `## ${section.title}`,
        ...section.warnings.map((warning) => `> ⚠ ${warning}`),
        section.note,
        markdownTable(section.headers, section.rows),
      ].join('\n\n'),
    );
  }
  return `${sections.join('\n\n')}\n`;
}

/** The paired comparison as Markdown. */
export function renderComparisonMarkdown(comparison: RunComparison): string {
  const row = (
    name: string,
    c: Omit<RunComparison['conditions'][number], 'condition' | 'pValueHolm'>,
    holm: string,
  ) => [
    name,
    String(c.pairs),
    String(c.excluded),
    percent(c.rateA),
    percent(c.rateB),
    `${c.counts.onlyFirst}/${c.counts.onlySecond}`,
    c.mcnemar.pValue.toPrecision(3),
    holm,
    `${(100 * c.difference.estimate).toFixed(1)} pts [${(100 * c.difference.lower).toFixed(1)}, ${(100 * c.difference.upper).toFixed(1)}]`,
  ];
  return `# ${comparison.suite}: ${comparison.armA} (A) vs ${comparison.armB} (B)

Paired on the same samples (sample id and epoch). Exact McNemar per condition, Holm-adjusted across conditions; difference B − A with a paired bootstrap 95 % interval. Unmatched samples: ${comparison.unmatched}.

${markdownTable(
  [
    'Condition',
    'Pairs',
    'Excluded (unscored)',
    'Rate A',
    'Rate B',
    'Only A/only B',
    'McNemar p',
    'Holm p',
    'B − A',
  ],
  [
    ...comparison.conditions.map((c) => row(c.condition, c, c.pValueHolm.toPrecision(3))),
    row('all', comparison.overall, '–'),
  ],
)}
`;
}

/** Writes report.html and report.md into a run folder; returns their paths. */
export async function writeReport(
  directory: string,
): Promise<{ html: string; markdown: string; summary: RunSummary }> {
  const summary = await summarizeRun(directory);
  const html = join(directory, 'report.html');
  const markdown = join(directory, 'report.md');
  await writeFile(html, renderHtmlReport(summary));
  await writeFile(markdown, renderMarkdownReport(summary));
  return { html, markdown, summary };
}
