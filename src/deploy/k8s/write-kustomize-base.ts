// Regenerates deploy/kustomize/base from the defaults (run after changing a builder or a default).
import { mkdirSync, writeFileSync } from 'node:fs';
import { KUSTOMIZE_BASE_DIR, renderKustomizeBase } from './kustomize-base.js';

const root = new URL('../../../../', import.meta.url);
const dir = new URL(`${KUSTOMIZE_BASE_DIR}/`, root);
mkdirSync(dir, { recursive: true });
for (const [name, text] of Object.entries(renderKustomizeBase())) writeFileSync(new URL(name, dir), text);
