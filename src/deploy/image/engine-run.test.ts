import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engineRunArgs } from './engine-run.js';

test('run-image maps to <engine> run: port on the host address, local files mounted read-only, serve flags last', () => {
  assert.deepEqual(
    engineRunArgs({
      image: 'r/dogs:1',
      hostAddress: '127.0.0.1',
      hostPort: 8080,
      model: { local: '/data/dogs/model.onnx' },
      labels: '/data/dogs/labels.txt',
      name: 'dogs',
      detach: true,
    }),
    [
      'run',
      '-d',
      '--name',
      'dogs',
      '-p',
      '127.0.0.1:8080:5000',
      '-v',
      '/data/dogs/model.onnx:/models/model.onnx:ro',
      '-v',
      '/data/dogs/labels.txt:/labels/labels.txt:ro',
      'r/dogs:1',
      '--model',
      '/models/model.onnx',
      '--labels',
      '/labels/labels.txt',
    ],
  );
  assert.deepEqual(
    engineRunArgs({
      image: 'skiff:latest',
      hostAddress: '0.0.0.0',
      hostPort: 5000,
      model: { fetch: 'mobilenetv2' },
      detach: false,
    }),
    ['run', '--rm', '-p', '0.0.0.0:5000:5000', 'skiff:latest', '--model', 'mobilenetv2'],
  );
});
