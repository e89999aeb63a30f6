import type { FailureReason } from './assess-rollout.js';
import type { RolloutResult } from './rollout-watcher.js';

const REASON_TEXT: Record<FailureReason, string> = {
  'image-pull': 'the image cannot be pulled',
  'crash-loop': 'the server keeps crashing',
  'out-of-memory': 'the server runs out of memory',
  'probe-failing': 'health probes are failing',
  'config-error': 'the container cannot be created',
  unschedulable: 'no node has room for the pod',
  'replica-failure': 'pods cannot be created',
  timeout: 'the rollout timed out',
};

/** The failure report: one line with the reason, then the failing pod's events and last log lines. */
export function formatFailure(name: string, result: RolloutResult): string {
  const verdict = result.verdict;
  if (verdict.state !== 'failed') return '';
  const outcome =
    result.rolledBackTo !== undefined
      ? `rolled back to revision ${result.rolledBackTo}`
      : `not rolled back: ${result.rollbackSkipped ?? 'unknown reason'}`;
  const lines = [
    `rollout of ${name} failed: ${REASON_TEXT[verdict.reason]}${verdict.pod === undefined ? '' : ` (pod ${verdict.pod})`}: ${verdict.message}; ${outcome}`,
  ];
  const diagnostics = result.diagnostics;
  if (diagnostics !== undefined && diagnostics.events.length > 0) {
    lines.push(`events${diagnostics.pod === undefined ? '' : ` of ${diagnostics.pod}`}:`);
    for (const e of diagnostics.events) {
      lines.push(
        `  ${e.type.padEnd(7)} ${e.reason.padEnd(16)} ${e.count > 1 ? `(x${e.count}) ` : ''}${e.message}`,
      );
    }
  }
  if (diagnostics !== undefined && diagnostics.logs.trim() !== '') {
    lines.push(`last log lines of ${diagnostics.pod ?? 'the pod'}:`);
    for (const line of diagnostics.logs.trimEnd().split('\n')) lines.push(`  ${line}`);
  }
  return `${lines.join('\n')}\n`;
}
