import { SkiffError } from '../core/errors.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Lower-cases a sha256 given by a user (an optional `sha256:` prefix is accepted). Throws SkiffError
 * SKIFF_CONFIG_INVALID unless it is 64 hex digits, which also keeps it safe to use as a directory name.
 */
export function normalizeSha256(value: string): string {
  const hex = value
    .trim()
    .toLowerCase()
    .replace(/^sha256:/, '');
  if (!SHA256_HEX.test(hex)) {
    throw new SkiffError('SKIFF_CONFIG_INVALID', `sha256 must be 64 hexadecimal digits, got "${value}"`);
  }
  return hex;
}
