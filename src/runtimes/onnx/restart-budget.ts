/** How often crashed workers may be replaced: at most `perMinute` restarts in any sliding minute. */
export class RestartBudget {
  private restarts: number[] = [];

  constructor(private readonly perMinute: number) {}

  /** Counts one restart now, if the budget allows it; false when it is spent. */
  take(now = Date.now()): boolean {
    this.restarts = this.restarts.filter((t) => now - t < 60_000);
    if (this.restarts.length >= this.perMinute) return false;
    this.restarts.push(now);
    return true;
  }
}
