/**
 * Buffers worth moving rather than copying when a decoded result crosses threads: every typed array's
 * buffer of at least `minBytes` (a small one may be a slice of Node's shared Buffer pool, which must stay).
 * Views on the same buffer move together with it.
 */
export function transferablesOf(value: unknown, minBytes = 64 * 1024): ArrayBuffer[] {
  const found = new Set<ArrayBuffer>();
  const visit = (node: unknown, depth: number): void => {
    if (depth > 8 || node === null || typeof node !== 'object') return;
    if (ArrayBuffer.isView(node)) {
      const buffer = node.buffer;
      if (buffer instanceof ArrayBuffer && buffer.byteLength >= minBytes) found.add(buffer);
      return;
    }
    for (const child of Array.isArray(node) ? node : Object.values(node)) visit(child, depth + 1);
  };
  visit(value, 0);
  return [...found];
}
