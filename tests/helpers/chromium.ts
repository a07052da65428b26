/**
 * Headless Chromium for the Web UI tests: a throwaway profile per run, removed afterwards.
 * CAREPIPE_CHROMIUM names the binary (infra/test-deps.sh, npm test's pretest, installs /usr/bin/chromium).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Page, chromium } from 'playwright-core';

export async function withChromium<T>(fn: (page: Page) => Promise<T>): Promise<T> {
  const profile = mkdtempSync(join(tmpdir(), 'carepipe-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CAREPIPE_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    return await fn(await browser.newPage());
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
