/** Triton's counters for one model, as `GET /metrics` shows them now. */
export interface InferenceCounts {
  /** nv_inference_count: inferences (batch elements) run. */
  readonly inferences: number;
  /** nv_inference_exec_count: model executions (batches) run. */
  readonly executions: number;
}

export async function inferenceCounts(baseUrl: string, model: string): Promise<InferenceCounts> {
  const response = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  const sum = (metric: string): number => {
    let total = 0;
    for (const line of text.split('\n')) {
      const match = /^(\w+)\{([^}]*)\}\s+(\S+)$/.exec(line);
      if (match?.[1] === metric && match[2]?.includes(`model="${model}"`) === true) total += Number(match[3]);
    }
    return total;
  };
  return { inferences: sum('nv_inference_count'), executions: sum('nv_inference_exec_count') };
}
