import {
  CLUSTER_OPTIONS,
  DEPLOY_RUN_OPTIONS,
  LOGS_OPTIONS,
  MANIFEST_OPTIONS,
  PORT_FORWARD_OPTIONS,
} from './deploy-options.js';
import { optionList, replaceGeneratedSection } from './generated-section.js';

/** docs/kubernetes.md with its options section rendered from the tables; a test keeps the committed file so. */
export function replaceDeployOptionsDoc(document: string): string {
  const body = `Every command (deploy, status, logs, port-forward, delete):

${optionList(CLUSTER_OPTIONS)}

What \`skiff deploy\` renders:

${optionList(MANIFEST_OPTIONS)}

How \`skiff deploy\` runs:

${optionList(DEPLOY_RUN_OPTIONS)}

\`skiff logs\`:

${optionList(LOGS_OPTIONS)}

\`skiff port-forward\`:

${optionList(PORT_FORWARD_OPTIONS)}`;
  return replaceGeneratedSection(document, 'deploy-options', body, 'docs/kubernetes.md');
}
