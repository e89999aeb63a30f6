/**
 * One self-rewriting status line on a terminal (pull and push progress); silent when stderr is not a TTY, so
 * logs and CI output stay clean. Redraws at most every 100 ms.
 */
export class ProgressLine {
  private readonly write: (text: string) => void;
  private readonly enabled: boolean;
  private lastDraw = 0;
  private shown = false;

  constructor(write: (text: string) => void, enabled: boolean) {
    this.write = write;
    this.enabled = enabled;
  }

  update(text: string, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.shown = true;
    this.write(`\r\u001b[2K${text}`);
  }

  /** Clears the line so the next log line starts clean. */
  clear(): void {
    if (!this.enabled || !this.shown) return;
    this.shown = false;
    this.write('\r\u001b[2K');
  }
}

/** Counts bytes towards a total and shows `<label> 12.3/45.6 MB`. */
export function byteCounter(line: ProgressLine, label: string, total: number): (count: number) => void {
  let done = 0;
  return (count) => {
    done += count;
    line.update(`${label} ${megabytes(done)}/${megabytes(total)} MB`, done >= total);
  };
}

export function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}
