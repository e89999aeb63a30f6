import type { RequestLimits } from '../request/request-limits.js';

/** Limits large enough to stay out of a test's way, with the ones it is about given. */
export function testLimits(overrides: Partial<RequestLimits> = {}): RequestLimits {
  return {
    maxImagePixels: 40_000_000,
    maxDecodePixels: 64_000_000,
    maxTopK: 1000,
    maxTensorElements: 2 ** 23,
    maxRequestElements: 2 ** 24,
    maxBytesElements: 65_536,
    maxResponseBytes: 64 * 1024 * 1024,
    maxInstances: 64,
    maxJsonDepth: 32,
    ...overrides,
  };
}
