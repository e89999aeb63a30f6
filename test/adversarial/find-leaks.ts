import os from 'node:os';
import { repoRoot } from '../helpers/paths.js';

/** What must never reach a client: where the server's files are, how its code is laid out, its runtime's insides. */
const LEAKS: readonly { what: string; pattern: RegExp }[] = [
  {
    what: 'a filesystem path',
    pattern:
      /file:\/\/|(?:^|[\s"'(=:,])\/(?:tmp|root|home|work|usr|var|opt|etc|proc|app|onnxruntime_src)\/[^\s"')]*/,
  },
  {
    what: 'a stack trace',
    pattern: /\n\s*at .+:\d+:\d+|\bat (?:async )?[\w.<>]+ \(.*:\d+:\d+\)|node:internal\//,
  },
  {
    what: 'ONNX Runtime internals',
    pattern:
      /onnxruntime::|\w\.(?:cc|cpp|h|hpp):\d+|\[ONNXRuntimeError\]|Status Message:|std::|\b\w+::\w+(?:::\w+)*\(/,
  },
];

/** Each leak found in `text`, with the part that gave it away; `workDir` is the server's own folder. */
export function findLeaks(text: string, workDir: string): string[] {
  const found: string[] = [];
  // The most specific path only: the work folder lies inside the temp folder, which may lie inside $HOME.
  const exact = [workDir, repoRoot(), os.tmpdir(), os.homedir()].find(
    (p) => p.length > 1 && text.includes(p),
  );
  if (exact !== undefined) found.push(`the server path ${exact}`);
  for (const { what, pattern } of LEAKS) {
    if (exact !== undefined && what === 'a filesystem path') continue;
    const match = pattern.exec(text);
    if (match !== null)
      found.push(`${what}: …${text.slice(Math.max(0, match.index - 40), match.index + 120)}…`);
  }
  return found;
}
