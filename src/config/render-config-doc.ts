import type { OptionSpec } from './option-table.js';
import { envOf, flagOf } from './option-table.js';

/** docs/config.md, rendered from the option table; a test keeps the committed file equal to this. */
export function renderConfigDoc(options: readonly OptionSpec[]): string {
  const rows = options
    .map(
      (o) =>
        `| \`${flagOf(o)}\`${o.short === undefined ? '' : ` (\`-${o.short}\`)`} | \`${envOf(o)}\` | \`${o.key}\` | ${o.defaultLabel} | ${o.description} |`,
    )
    .join('\n');
  return `# Configuration

\`skiff serve\` takes each option from, in order of precedence: its command-line flag, its \`SKIFF_*\`
environment variable, the \`serve\` section of the project file, then the default. The project file is
\`--config-file <file>\`, else \`skiff.yaml\`, \`skiff.yml\` or \`skiff.json\` in the working directory:

\`\`\`yaml
serve:
  model: ./models/dogs/model.onnx
  labels: ./models/dogs/labels.txt
  port: 8080
  workers: 2
\`\`\`

Every value is checked once at start-up; a bad one stops the server with one line naming the option and
where the value came from (\`skiff: error: environment variable SKIFF_PORT: expected a whole number\`).
Unknown keys in the project file are errors too. The model's own input/output contract lives in
\`model.json\`, described in [model-config.md](model-config.md).

| flag | environment | file key | default | meaning |
|---|---|---|---|---|
${rows}

This file is generated from the option table in \`src/config/serve-options.ts\` (and the rows it shares from
\`shared-options.ts\`) by \`npm run docs\`; a test checks it is current.
`;
}
