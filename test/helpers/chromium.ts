import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';

/** Debian's chromium (.ci/run installs it); playwright-core only drives it, it never downloads a browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags for a quiet, offline browser: nothing phones home, no GPU, no sandbox (CI runs as root). */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/**
 * Why the browser tests cannot run here, or undefined when they can. Without chromium they skip locally
 * but fail in CI (process.env.CI), where .ci/run must have installed it.
 */
export function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  const message = `${CHROMIUM_PATH} is missing: apt-get install chromium (.ci/run does it in CI)`;
  if (process.env.CI !== undefined && process.env.CI !== '') throw new Error(message);
  return message;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: FLAGS, timeout: 30_000 });
}
