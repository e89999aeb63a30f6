import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Every module `entry` loads at start-up: static imports only, so lazy `import()`s stay outside. */
function staticImports(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/gm)) {
      const specifier = match[1] ?? '';
      if (specifier.startsWith('.')) visit(path.resolve(path.dirname(file), specifier));
      else seen.add(specifier);
    }
  };
  visit(entry);
  return seen;
}

test('build and push (and the CLI entry that dispatches to them) never load the server, onnxruntime-node or sharp', () => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // The entry imports each command only when it runs (dynamic import), so statically it loads none.
  const entry = [...staticImports(path.join(here, '../main.js'))];
  assert.ok(
    entry.some((m) => m.endsWith('errors.js')),
    'the walk follows the entry imports',
  );
  assert.deepEqual(
    entry.filter((m) => /commands[/\\]|server\.js$|runtimes[/\\]|^onnxruntime-node|^sharp/.test(m)),
    [],
  );
  for (const command of ['build.js', 'push.js']) {
    const loaded = [...staticImports(path.join(here, command))];
    assert.ok(
      loaded.some((m) => m.endsWith('registry-client.js')),
      'the walk follows imports',
    );
    assert.deepEqual(
      loaded.filter((m) => /server\.js$|runtimes[/\\]|^onnxruntime-node|^sharp/.test(m)),
      [],
      command,
    );
  }
});
