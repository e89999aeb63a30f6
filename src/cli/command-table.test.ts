import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { flagOf } from '../config/option-table.js';
import type { CommandIo } from './command-spec.js';
import { COMMANDS, MODELS_COMMAND } from './command-table.js';
import { commandHelp, parseCommandFlags, readCommand } from './read-command.js';

function io(argv: string[], cwd: string): CommandIo & { readonly out: string[] } {
  const out: string[] = [];
  return {
    argv,
    env: {},
    cwd,
    stdout: (text) => out.push(text),
    stderr: () => undefined,
    stderrIsTty: false,
    out,
  };
}

test('command names are unique', () => {
  assert.equal(new Set(COMMANDS.map((c) => c.name)).size, COMMANDS.length);
});

for (const spec of COMMANDS) {
  describe(`skiff ${spec.name}`, () => {
    const flags = spec.flags ?? spec.options;
    const help = commandHelp(spec);

    test('--help lists each flag its parser accepts, and the parser accepts each flag --help lists', () => {
      const listed = [...help.matchAll(/^ {2}(?:-[a-zA-Z], | {4})--(?:\[no-\])?([a-z][a-z0-9-]*)/gm)].map(
        (m) => `--${m[1] ?? ''}`,
      );
      const builtIn = spec.section === undefined ? ['--help'] : ['--config-file', '--help'];
      assert.deepEqual(listed, [...flags.map(flagOf), ...builtIn]);
      for (const option of flags) {
        const argv = option.type === 'boolean' ? [flagOf(option)] : [flagOf(option), '1'];
        assert.deepEqual(Object.keys(parseCommandFlags(spec, argv).values), [option.key]);
      }
    });

    test('every flag sets an option of its configuration', () => {
      const keys = new Set(spec.options.map((o) => o.key));
      for (const option of flags) assert.ok(keys.has(option.key), option.key);
    });
  });
}

test('--help is printed instead of loading, whatever else is wrong', () => {
  const cli = io(['--help', '--json'], '/nonexistent');
  assert.equal(readCommand(MODELS_COMMAND, cli), undefined);
  assert.deepEqual(cli.out, [commandHelp(MODELS_COMMAND)]);
});

test('skiff models reads the "models" section of the project file, as its --help says', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-models-'));
  writeFileSync(path.join(dir, 'skiff.yaml'), 'models:\n  modelRepository: ./repo\n');
  assert.deepEqual(readCommand(MODELS_COMMAND, io([], dir)), { modelRepository: './repo', json: false });
});
