const PROGRESS_INTERVAL_MS = 100;

export interface ProgressBar {
  update(receivedBytes: number): void;
  /** Draws the final state (call only on success). */
  done(): void;
  /** Ends the line if anything was drawn. */
  close(): void;
}

const SILENT: ProgressBar = { update() {}, done() {}, close() {} };

export function createProgressBar(
  enabled: boolean,
  label: string,
  totalBytes: number | undefined,
): ProgressBar {
  if (!enabled) return SILENT;
  const out = process.stderr;
  const startedAt = Date.now();
  const name = label.length > 32 ? `${label.slice(0, 31)}…` : label;
  let lastDrawAt = 0;
  let lastLength = 0;
  let received = 0;
  const draw = (): void => {
    const seconds = Math.max((Date.now() - startedAt) / 1000, 0.001);
    const rate = `${formatMegabytes(received / seconds)} MB/s`;
    const amount =
      totalBytes === undefined || totalBytes === 0
        ? `${formatMegabytes(received)} MB`
        : `${String(Math.floor((received / totalBytes) * 100)).padStart(3)}%  ${formatMegabytes(received)}/${formatMegabytes(totalBytes)} MB`;
    const line = `${name}  ${amount}  ${rate}`;
    out.write(`\r${line.padEnd(lastLength)}`);
    lastLength = line.length;
    lastDrawAt = Date.now();
  };
  return {
    update(receivedBytes) {
      received = receivedBytes;
      if (Date.now() - lastDrawAt >= PROGRESS_INTERVAL_MS) draw();
    },
    done() {
      draw();
    },
    close() {
      if (lastLength > 0) out.write('\n');
      lastLength = 0;
    },
  };
}

export function formatMegabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}
