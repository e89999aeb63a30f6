import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engineCommands } from './engine-build.js';

test('--engine maps to the engine build (buildah bud) with BASE, BUILDER and MODEL build args and the CA secret, then push', () => {
  const common = { contextDir: '/src', base: 'node:20', tag: 'r/app:1', stderr: () => undefined };
  assert.deepEqual(engineCommands({ ...common, engine: 'buildah', push: false }), [
    ['buildah', 'bud', '-f', '/src/Containerfile', '--build-arg', 'BASE=node:20', '-t', 'r/app:1', '/src'],
  ]);
  assert.deepEqual(
    engineCommands({
      ...common,
      engine: 'docker',
      builder: 'mirror/node:20',
      model: 'mobilenetv2',
      extraCaFile: '/etc/ca.pem',
      push: true,
    }),
    [
      [
        'docker',
        'build',
        '-f',
        '/src/Containerfile',
        '--build-arg',
        'BASE=node:20',
        '--build-arg',
        'BUILDER=mirror/node:20',
        '--build-arg',
        'MODEL=mobilenetv2',
        '--secret',
        'id=ca,src=/etc/ca.pem',
        '-t',
        'r/app:1',
        '/src',
      ],
      ['docker', 'push', 'r/app:1'],
    ],
  );
});
