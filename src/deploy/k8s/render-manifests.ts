import type { Manifest } from './manifest.js';
import { stringify } from 'yaml';

export type ManifestFormat = 'yaml' | 'json';

/** YAML as a multi-document stream (what kubectl apply -f takes), JSON as a v1 List. */
export function renderManifests(objects: readonly Manifest[], format: ManifestFormat): string {
  if (format === 'json') {
    return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n`;
  }
  // lineWidth 0: long values (preStop commands, JSON) stay on one line; single quotes as Prettier writes YAML.
  return objects.map((object) => `---\n${stringify(object, { lineWidth: 0, singleQuote: true })}`).join('');
}
