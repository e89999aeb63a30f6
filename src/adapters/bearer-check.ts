import { createHash, timingSafeEqual } from 'node:crypto';
import { SkiffError } from '../core/errors.js';

/**
 * Checks `Authorization: Bearer <token>` (HTTP header or gRPC metadata) in constant time; a server without
 * a token accepts everything. Throws SKIFF_UNAUTHENTICATED.
 */
export function bearerCheck(
  token: string | undefined,
  where: 'header' | 'metadata',
): (given: string) => void {
  if (token === undefined) return () => undefined;
  const expected = createHash('sha256').update(token).digest();
  return (header) => {
    const given = /^Bearer\s+(.+)$/i.exec(header)?.[1] ?? '';
    if (!timingSafeEqual(createHash('sha256').update(given).digest(), expected)) {
      throw new SkiffError(
        'SKIFF_UNAUTHENTICATED',
        header === ''
          ? where === 'header'
            ? 'this server needs "Authorization: Bearer <token>"'
            : 'this server needs metadata "authorization: Bearer <token>"'
          : 'the bearer token is not valid',
      );
    }
  };
}
