import { BUILD_OPTIONS } from './build-options.js';
import { optionList, replaceGeneratedSection } from './generated-section.js';
import { PUSH_OPTIONS } from './push-options.js';
import { RUN_IMAGE_OPTIONS } from './run-image-options.js';

/** docs/container.md with its options section rendered from the tables; a test keeps the committed file so. */
export function replaceImageOptionsDoc(document: string): string {
  const body = `\`skiff build\` (file section \`build:\`):

${optionList(BUILD_OPTIONS)}

\`skiff push\` (file section \`push:\`):

${optionList(PUSH_OPTIONS)}

\`skiff run-image\` (file section \`run-image:\`):

${optionList(RUN_IMAGE_OPTIONS)}`;
  return replaceGeneratedSection(document, 'image-options', body, 'docs/container.md');
}
