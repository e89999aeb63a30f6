import type { OptionSpec } from '../config/option-table.js';
import { envOf, flagOf } from '../config/option-table.js';

/** Renders a command's --help from its option table, so the help can never disagree with the parser. */
export function renderHelp(
  usage: string,
  summary: string,
  options: readonly OptionSpec[],
  footer: string,
  /** Commands whose options come from flags only (no SKIFF_* variables, no project file) say so. */
  sources: 'flags-env-file' | 'flags' = 'flags-env-file',
): string {
  const rows = options.map((option) => {
    const name =
      option.type === 'boolean' && option.defaultLabel === 'true'
        ? flagOf(option).replace(/^--/, '--[no-]')
        : flagOf(option);
    const flag = `${option.short === undefined ? '    ' : `-${option.short}, `}${name}${
      option.type === 'boolean' ? '' : ` <${option.placeholder ?? option.type}>`
    }`;
    return {
      flag,
      text: `${option.description}\n${' '.repeat(4)}${sources === 'flags' ? '' : `env ${envOf(option)}, file key ${option.key}, `}default ${option.defaultLabel}`,
    };
  });
  const width = Math.max(...rows.map((r) => r.flag.length)) + 2;
  const body = rows
    .map((r) => {
      const [first, second] = r.text.split('\n');
      return `  ${r.flag.padEnd(width)}${first ?? ''}\n  ${' '.repeat(width)}${second?.trim() ?? ''}`;
    })
    .join('\n');
  const configFile =
    sources === 'flags'
      ? ''
      : `  ${'    --config-file <file>'.padEnd(width)}project file (default: ./skiff.yaml or ./skiff.json if present)\n`;
  return `Usage: ${usage}\n\n${summary}\n\nOptions:\n${body}\n${configFile}  ${'-h, --help'.padEnd(width)}show this help\n\n${footer}\n`;
}
