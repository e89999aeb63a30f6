import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser, Locator, Page, Request } from 'playwright-core';

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

/**
 * Chromium aborts every request in flight when the host's network changes (net::ERR_NETWORK_CHANGED).
 * Here that happens whenever a test running at the same time brings a podman bridge or veth up or down;
 * it says nothing about the page, which retries its own requests (logic/network-retry.ts).
 */
export const NETWORK_CHANGED = /net::ERR_NETWORK_CHANGED/;

/**
 * Opens `url` and waits for `ready`. When the page's own files were cut off by a network change, the
 * page is loaded again (up to three times); any other failure goes to the test as is.
 */
export async function openWhenReady(page: Page, url: string, ready: Locator): Promise<void> {
  const failures: string[] = [];
  const onFailed = (request: Request): void => {
    failures.push(request.failure()?.errorText ?? '');
  };
  page.on('requestfailed', onFailed);
  try {
    for (let attempt = 1; ; attempt += 1) {
      failures.length = 0;
      try {
        await page.goto(url);
        await ready.waitFor({ state: 'attached', timeout: 15_000 });
        return;
      } catch (error) {
        const cutOff = [...failures, String(error)].some((text) => NETWORK_CHANGED.test(text));
        if (!cutOff || attempt === 3) throw error;
      }
    }
  } finally {
    page.off('requestfailed', onFailed);
  }
}
