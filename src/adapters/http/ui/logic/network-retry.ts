/**
 * How often a request the network dropped is sent again, and how long to wait first. A browser aborts
 * requests in flight when the host's network changes (a Wi-Fi switch, a VPN, a container bridge coming
 * up: chromium's net::ERR_NETWORK_CHANGED), which is no reason to show the user an error. Every request
 * the page makes is safe to repeat: GETs, and predictions, which change nothing on the server.
 */
export const NETWORK_RETRY_DELAYS_MS: readonly number[] = [150, 600];

/**
 * Runs `send` and, when it throws before any answer came (fetch rejects with a TypeError for that),
 * runs it again after each delay in turn. An answer of any status is returned as is: only the network
 * failing is retried. Any other error, and the last network error, go to the caller.
 */
export async function withNetworkRetry<T>(
  send: () => Promise<T>,
  delaysMs: readonly number[] = NETWORK_RETRY_DELAYS_MS,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await send();
    } catch (error) {
      const delay = delaysMs[attempt];
      if (!(error instanceof TypeError) || delay === undefined) throw error;
      await sleep(delay);
    }
  }
}
