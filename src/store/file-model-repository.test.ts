import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileModelRepository } from './file-model-repository.js';

const root = mkdtempSync(path.join(tmpdir(), 'skiff-file-repository-test-'));
after(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Writes `<root>/<parts>`: a FIFO for 'fifo', else a regular file with that text. */
function put(content: string, ...parts: string[]): void {
  const file = path.join(root, ...parts);
  mkdirSync(path.dirname(file), { recursive: true });
  if (content === 'fifo') execFileSync('mkfifo', [file]);
  else writeFileSync(file, content);
}

test('regular files make an entry: versions, config and labels', async () => {
  put('onnx', 'plain', 'model.onnx');
  put('onnx', 'plain', '2', 'model.onnx');
  put('{"versionPolicy": {"all": true}}', 'plain', 'model.json');
  put('cat\ndog\n', 'plain', 'labels.txt');
  const entry = await new FileModelRepository(root, { fileTimeoutMs: 5000 }).read('plain');
  assert.deepEqual(
    entry.versions.map((v) => v.version),
    ['1', '2'],
  );
  assert.deepEqual(entry.config, { versionPolicy: { all: true } });
  assert.deepEqual(entry.labels?.full, ['cat', 'dog']);
});

test('anything but a regular file is refused before it is opened, named without the server path', async () => {
  put('fifo', 'fifo-model', 'model.onnx');
  put('onnx', 'fifo-version', 'model.onnx');
  put('fifo', 'fifo-version', '3', 'model.onnx');
  put('onnx', 'fifo-config', 'model.onnx');
  put('fifo', 'fifo-config', 'model.json');
  put('onnx', 'fifo-labels', 'model.onnx');
  put('fifo', 'fifo-labels', 'labels.txt');
  put('onnx', 'dir-model', 'model.onnx', 'oops');
  const repository = new FileModelRepository(root, { fileTimeoutMs: 5000 });
  const cases = [
    [
      'fifo-model',
      'SKIFF_MODEL_FILE_MISSING',
      'model file fifo-model/model.onnx is a FIFO, not a regular file',
    ],
    [
      'fifo-version',
      'SKIFF_MODEL_FILE_MISSING',
      'model file fifo-version/3/model.onnx is a FIFO, not a regular file',
    ],
    [
      'fifo-config',
      'SKIFF_CONFIG_UNREADABLE',
      'model config fifo-config/model.json is a FIFO, not a regular file',
    ],
    [
      'fifo-labels',
      'SKIFF_LABELS_INVALID',
      'labels file fifo-labels/labels.txt is a FIFO, not a regular file',
    ],
    [
      'dir-model',
      'SKIFF_MODEL_FILE_MISSING',
      'model file dir-model/model.onnx is a directory, not a regular file',
    ],
  ] as const;
  for (const [name, code, message] of cases) await assert.rejects(repository.read(name), { code, message });
  assert.deepEqual(await repository.listNames(), [
    'dir-model',
    'fifo-config',
    'fifo-labels',
    'fifo-model',
    'fifo-version',
    'plain',
  ]);
});

test('an aborted signal stops a read with its reason', async () => {
  const reason = new Error('unloaded');
  await assert.rejects(new FileModelRepository(root).read('plain', AbortSignal.abort(reason)), reason);
});
