import { spawn } from 'node:child_process';

export interface ReferenceServer {
  readonly url: string;
  close(): void;
}

// No framework, no work: an answer from it takes exactly what the machine's scheduling and loopback take.
const SOURCE = `
const server = require('node:http').createServer((request, response) => response.end());
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/** Starts the reference server; it exits with its parent (its stdin closes) if close() is never called. */
export async function startReferenceServer(): Promise<ReferenceServer> {
  const child = spawn(process.execPath, ['-e', SOURCE], { stdio: ['pipe', 'pipe', 'ignore'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the reference server exited with ${code}`)));
    child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
  });
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => child.kill('SIGKILL'),
  };
}
