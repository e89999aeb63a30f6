// The shipped kustomize base is exactly what `skiff deploy --dry-run` renders with the defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  KUSTOMIZE_BASE_DIR,
  defaultManifestsYaml,
  renderKustomizeBase,
} from '../../src/deploy/k8s/kustomize-base.js';
import { repoRoot } from '../helpers/paths.js';

const parse = (text: string): unknown[] => parseAllDocuments(text).map((d) => d.toJS() as unknown);
const key = (o: unknown): string => {
  const object = o as { kind: string; metadata: { name: string } };
  return `${object.kind}/${object.metadata.name}`;
};
const byKey = (objects: unknown[]): unknown[] => [...objects].sort((a, b) => key(a).localeCompare(key(b)));

test('deploy/kustomize/base holds the default manifests (regenerate: node dist/src/deploy/k8s/write-kustomize-base.js)', () => {
  for (const [name, text] of Object.entries(renderKustomizeBase())) {
    const shipped = readFileSync(path.join(repoRoot(), KUSTOMIZE_BASE_DIR, name), 'utf8');
    assert.deepEqual(parse(shipped), parse(text), name);
  }
});

// A synchronous child blocks this process's timers, so it carries its own limit (SIGTERM, status null).
const SPAWN_TIMEOUT_MS = 60_000;
const kubectl = spawnSync('kubectl', ['version', '--client'], {
  encoding: 'utf8',
  timeout: SPAWN_TIMEOUT_MS,
});
test(
  'kubectl kustomize builds the base into the same objects',
  { skip: kubectl.status === 0 ? false : 'kubectl is not installed (apt-get install kubectl)' },
  () => {
    const built = spawnSync('kubectl', ['kustomize', path.join(repoRoot(), KUSTOMIZE_BASE_DIR)], {
      encoding: 'utf8',
      timeout: SPAWN_TIMEOUT_MS,
    });
    assert.equal(built.status, 0, built.stderr);
    assert.deepEqual(byKey(parse(built.stdout)), byKey(parse(defaultManifestsYaml())));
  },
);

test(
  'the load-balancer overlay swaps the image and exposes the Service, nothing else',
  { skip: kubectl.status === 0 ? false : 'kubectl is not installed (apt-get install kubectl)' },
  () => {
    const built = spawnSync(
      'kubectl',
      ['kustomize', path.join(repoRoot(), 'deploy', 'kustomize', 'overlays', 'load-balancer')],
      { encoding: 'utf8', timeout: SPAWN_TIMEOUT_MS },
    );
    assert.equal(built.status, 0, built.stderr);
    const objects = parse(built.stdout) as {
      kind: string;
      spec: { type?: string; template?: { spec: { containers: { image: string }[] } } };
    }[];
    assert.equal(objects.find((o) => o.kind === 'Service')?.spec.type, 'LoadBalancer');
    assert.equal(
      objects.find((o) => o.kind === 'Deployment')?.spec.template?.spec.containers[0]?.image,
      'registry.example.com/ml/skiff:1.0.0',
    );
  },
);
