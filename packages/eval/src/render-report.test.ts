import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineSuite } from './load-suite.js';
import { writeReport } from './render-report.js';
import { runEval } from './run-eval.js';
import { ScriptedBackend } from './test-backends.js';

// Debian's chromium package, driven by playwright-core. CI must install it (apt-get install chromium).
const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(
    `render-report.test.ts: skipping the browser check — ${CHROMIUM} is missing (apt-get install -y chromium)`,
  );
}

let directory: string;
let profile: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'midspec-report-'));
  profile = await mkdtemp(join(tmpdir(), 'midspec-chromium-'));
  const suite = defineSuite({
    kind: 'preference-choice',
    id: 'report-check',
    target: { attribute: 'origin', value: 'american' },
    items: ['wine', 'coffee'].map((domain) => ({
      id: domain,
      domain,
      split: 'held-out',
      prompt: `Which ${domain}?`,
      options: [
        { text: 'American <b>bold</b>', attributes: { origin: 'american' } },
        { text: 'Imported', attributes: { origin: 'imported' } },
      ],
    })),
  });
  const biased = new ScriptedBackend(
    'biased',
    () => '',
    (item) => (item.continuation === 'A' ? -0.1 : -1),
  );
  const flat = new ScriptedBackend(
    'flat',
    () => '',
    () => -1,
  );
  await runEval({
    suite,
    arms: [
      { name: 'biased', backend: biased },
      { name: 'flat', backend: flat },
    ],
    outDir: directory,
  });
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
  await rm(profile, { recursive: true, force: true });
});

describe.skipIf(!haveChromium)('HTML report in headless Chromium', () => {
  it('renders with its charts and no console errors', async () => {
    const { html } = await writeReport(directory);
    // A fresh profile folder: playwright passes it as --user-data-dir.
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      await page.goto(pathToFileURL(html).href);
      expect(await page.title()).toBe('midspec eval · report-check');
      for (const chart of ['rates', 'macro', 'position-bias']) {
        const box = await page.locator(`svg[data-chart="${chart}"]`).boundingBox();
        expect(box?.width, chart).toBeGreaterThan(100);
      }
      expect(await page.locator('svg[data-chart="rates"] rect.bar').count()).toBe(2);
      expect(await page.locator('svg[data-chart="rates"] .error-bar').count()).toBe(2);
      expect(await page.locator('svg[data-chart="rates"] text.empty').count()).toBe(2);
      // The tied "flat" arm is unscored, shown as such, not as a choice.
      expect(await page.locator('table').first().textContent()).toContain('tie 2');
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
