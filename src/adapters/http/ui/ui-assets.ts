import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SkiffError } from '../../../core/errors.js';

/** One file of the page, held in memory: the whole page is a few tens of KB. */
export interface UiAsset {
  readonly body: Buffer;
  readonly type: string;
  /** Strong validator from the content, so a browser revalidates cheaply (304) and never runs stale code. */
  readonly etag: string;
}

export interface UiAssets {
  /** The page itself, served at `/`. */
  readonly page: UiAsset;
  /** Everything else by its path under /ui/assets/ (e.g. `client/main.js`, `ui.css`). */
  readonly files: ReadonlyMap<string, UiAsset>;
}

export const UI_ASSETS_PREFIX = '/ui/assets/';

// HTML and CSS live beside the sources (tsc does not copy them; src/ ships in the image as the .proto does);
// the first candidate serves code run from src/ directly.
const STATIC_DIRS = [
  new URL('./static/', import.meta.url),
  new URL('../../../../../src/adapters/http/ui/static/', import.meta.url),
];
// The browser modules are tsc's output next to this file (client/ with the DOM lib, logic/ DOM-free).
const SCRIPT_DIRS = ['client', 'logic'] as const;

/**
 * Reads the page, its stylesheet and its compiled modules once at start-up. Throws SKIFF_CONFIG_INVALID
 * when the build is incomplete (the page would load without its scripts), naming the way out.
 */
export function loadUiAssets(): UiAssets {
  const staticDir = STATIC_DIRS.map((u) => fileURLToPath(u)).find((d) => existsSync(`${d}index.html`));
  const mainScript = fileURLToPath(new URL('./client/main.js', import.meta.url));
  if (staticDir === undefined || !existsSync(mainScript)) {
    throw new SkiffError(
      'SKIFF_CONFIG_INVALID',
      `the web page is not built (${staticDir === undefined ? 'index.html' : mainScript} is missing): run "npm run build", or start with --no-ui`,
    );
  }
  const files = new Map<string, UiAsset>();
  files.set('ui.css', asset(readFileSync(`${staticDir}ui.css`), 'text/css; charset=utf-8'));
  for (const dir of SCRIPT_DIRS) {
    const folder = fileURLToPath(new URL(`./${dir}/`, import.meta.url));
    for (const name of readdirSync(folder).sort()) {
      if (!name.endsWith('.js') || name.endsWith('.test.js')) continue;
      // The source maps stay on disk: the page would only fetch them for a developer's tools.
      const code = readFileSync(`${folder}${name}`, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
      files.set(`${dir}/${name}`, asset(Buffer.from(code), 'text/javascript; charset=utf-8'));
    }
  }
  // Every module is announced up front so the browser fetches them in parallel, not import by import.
  const preloads = [...files.keys()]
    .filter((name) => name.endsWith('.js'))
    .map((name) => `<link rel="modulepreload" href="${UI_ASSETS_PREFIX}${name}">`)
    .join('\n    ');
  const html = readFileSync(`${staticDir}index.html`, 'utf8').replace('<!-- modulepreload -->', preloads);
  return { page: asset(Buffer.from(html), 'text/html; charset=utf-8'), files };
}

function asset(body: Buffer, type: string): UiAsset {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 20)}"` };
}
