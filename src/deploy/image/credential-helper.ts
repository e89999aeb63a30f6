import { spawn } from 'node:child_process';
import { SkiffError } from '../../core/errors.js';
import type { RegistryCredentials } from './docker-credentials.js';

/** What `docker-credential-<helper> get` prints (github.com/docker/docker-credential-helpers). */
interface HelperAnswer {
  readonly Username?: string;
  readonly Secret?: string;
}

// The user name helpers store for an OAuth identity (refresh) token instead of a password.
const IDENTITY_TOKEN_USER = '<token>';
const HELPER_TIMEOUT_MS = 30_000;

/**
 * Runs `docker-credential-<helper> get` with the server on stdin, as docker does. Undefined when the helper
 * has nothing stored for it ("credentials not found"); throws when the helper is missing or fails otherwise.
 */
export async function runCredentialHelper(
  helper: string,
  server: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<RegistryCredentials | undefined> {
  const command = `docker-credential-${helper}`;
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      const child = spawn(command, ['get'], {
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: HELPER_TIMEOUT_MS,
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      child.on('error', (error: NodeJS.ErrnoException) =>
        reject(
          new SkiffError(
            'SKIFF_REGISTRY_AUTH',
            error.code === 'ENOENT'
              ? `the docker config names the credential helper "${helper}", but ${command} is not on PATH: install it, or log in with --registry-username/--registry-password`
              : `${command}: ${error.message}`,
            { cause: error },
          ),
        ),
      );
      child.on('close', (exitCode) => resolve({ code: exitCode, stdout: out, stderr: err }));
      child.stdin.end(server);
    },
  );
  const message = (stdout + stderr).trim();
  if (code !== 0) {
    if (/credentials not found/i.test(message)) return undefined;
    throw new SkiffError(
      'SKIFF_REGISTRY_AUTH',
      `${command} get ${server} exited with ${code ?? 'a signal'}${message === '' ? '' : `: ${message.slice(0, 300)}`}`,
    );
  }
  let answer: HelperAnswer;
  try {
    answer = JSON.parse(stdout) as HelperAnswer;
  } catch (error) {
    throw new SkiffError('SKIFF_REGISTRY_AUTH', `${command} get ${server} did not print JSON`, {
      cause: error,
    });
  }
  if (typeof answer.Secret !== 'string' || answer.Secret === '') return undefined;
  if (answer.Username === IDENTITY_TOKEN_USER) return { identityToken: answer.Secret };
  return { username: answer.Username ?? '', password: answer.Secret };
}
