import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AttackMonitor } from './attack-monitor.js';
import type { AttackReport } from './attack-report.js';
import { countCodes, formatReport, quantiles, recordReport } from './attack-report.js';
import type { Answer } from './http-answer.js';
import { sendHttp } from './http-answer.js';
import { MODEL, oipInferRequest, photo, predictRequest } from './inference-payloads.js';
import { LegitimateTraffic } from './legitimate-traffic.js';
import type { ProbeSample } from './monitor-types.js';
import { clock } from './monitor-types.js';
import { MIB, readRssBytes } from './proc-rss.js';
import { startReferenceServer } from './reference-server.js';
import type { SkiffProcess } from './skiff-process.js';
import { startSkiff } from './skiff-process.js';

export interface AttackContext {
  readonly server: SkiffProcess;
  /** Aborted when the attack's time limit is up: every request an attack sends must stop then. */
  readonly signal: AbortSignal;
  /** Records an attack-specific figure in the report. */
  readonly note: (key: string, value: string | number) => void;
}

export interface AttackPlan {
  readonly name: string;
  /** Flags added to `skiff serve --host 127.0.0.1 --port 0 --grpc-port 0 --log-format json`. */
  readonly serverArgs?: readonly string[];
  readonly workDir?: string;
  /** The model legitimate clients use (default: the one the server serves alone). */
  readonly legitimateModel?: string;
  readonly timeLimitMs?: number;
  /** Sends the attack; resolves with the answers its requests got (none when it reads none). */
  readonly attack: (context: AttackContext) => Promise<readonly Answer[]>;
}

const DEFAULT_TIME_LIMIT_MS = 30_000;
/** Probes this long after the attack still count as "while attacked": a server may stall just after. */
const AFTERMATH_MS = 1000;

function settings(): { settleMs: number; ceilingBytes: number } {
  const settle = Number(process.env.SKIFF_ATTACK_SETTLE_MS ?? 5000);
  const ceilingMiB = Number(process.env.SKIFF_ATTACK_RSS_CEILING_MIB ?? 1536);
  return { settleMs: settle, ceilingBytes: ceilingMiB * MIB };
}

/**
 * Starts a fresh server, warms it up with legitimate requests, then runs the attack beside legitimate
 * traffic while a monitor thread samples RSS and probe latency. Reports what it cost, a settling time later;
 * the server is killed whatever happens.
 */
export async function runAttack(t: TestContext, plan: AttackPlan): Promise<AttackReport> {
  const server = await startSkiff(
    plan.serverArgs ?? [],
    plan.workDir === undefined ? {} : { workDir: plan.workDir },
  );
  try {
    return await attackServer(t, server, plan);
  } finally {
    await server.kill();
  }
}

async function attackServer(t: TestContext, server: SkiffProcess, plan: AttackPlan): Promise<AttackReport> {
  const legitModel = plan.legitimateModel ?? MODEL;
  const namesModel = plan.legitimateModel !== undefined;
  // A server that cannot serve a legitimate request before the attack would make every figure meaningless.
  for (const payload of [
    predictRequest(photo(), namesModel ? legitModel : undefined),
    oipInferRequest(legitModel),
  ]) {
    for (let i = 0; i < 3; i++) {
      const answer = await sendHttp(server.url, payload, 15_000);
      if (answer.code !== '200')
        throw new Error(`warm-up ${payload.path} answered ${answer.code}: ${answer.text}`);
    }
  }
  const before = readRssBytes(server.pid) ?? 0;
  const reference = await startReferenceServer();
  try {
    return await monitored(t, server, plan, before, reference.url);
  } finally {
    reference.close();
  }
}

/** The attack itself, between a monitor and legitimate traffic started before it and stopped after it. */
async function monitored(
  t: TestContext,
  server: SkiffProcess,
  plan: AttackPlan,
  before: number,
  referenceUrl: string,
): Promise<AttackReport> {
  const { settleMs, ceilingBytes } = settings();
  const legitModel = plan.legitimateModel ?? MODEL;
  const namesModel = plan.legitimateModel !== undefined;
  const monitor = new AttackMonitor({
    pid: server.pid,
    url: server.url,
    referenceUrl,
    intervalMs: 50,
    rssCeilingBytes: before + ceilingBytes,
    probeTimeoutMs: 10_000,
    maxOutstandingProbes: 200,
  });
  const legitimate = new LegitimateTraffic(server.url, legitModel, namesModel);
  await sleep(500);
  const startRss = readRssBytes(server.pid) ?? before;
  const notes: Record<string, string | number> = {};
  const timeLimitMs = plan.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS;
  const start = clock();
  let answers: readonly Answer[];
  try {
    answers = await withinLimit(
      plan.attack({
        server,
        signal: AbortSignal.timeout(timeLimitMs),
        note: (key, value) => (notes[key] = value),
      }),
      timeLimitMs + 10_000,
    );
  } catch (error) {
    await legitimate.stop();
    await monitor.stop();
    throw error;
  }
  const end = clock();
  await sleep(AFTERMATH_MS);
  const legit = await legitimate.stop();
  await sleep(Math.max(0, settleMs - (clock() - end)));
  const afterRss = readRssBytes(server.pid);
  const samples = await monitor.stop();
  const survived = server.alive() && afterRss !== undefined;
  const attacked = (p: ProbeSample): boolean => p.at >= start && p.at <= end + AFTERMATH_MS;
  const inWindow = samples.probes.filter(attacked);
  const peak = Math.max(startRss, ...samples.rss.filter((s) => s.at >= start).map((s) => s.bytes));
  const report: AttackReport = {
    name: plan.name,
    answers,
    codes: countCodes(answers),
    answerMs: quantiles(answers.map((a) => a.ms)),
    attackMs: end - start,
    startRssMiB: startRss / MIB,
    peakRssGrowthMiB: (peak - startRss) / MIB,
    afterRssGrowthMiB: afterRss === undefined || !survived ? undefined : (afterRss - startRss) / MIB,
    // A tick with no probe sent (too many unanswered) is a stall at least as long as the probe timeout allows.
    probeMs: quantiles([...inWindow.map((p) => p.ms), ...Array<number>(samples.skippedProbes).fill(10_000)]),
    probeFailures: inWindow.filter((p) => !p.ok).length,
    referenceProbeMs: quantiles(samples.referenceProbes.filter(attacked).map((p) => p.ms)),
    legitimate: legit,
    survived,
    watchdogFired: samples.watchdogFiredAt !== undefined,
    exit: server.alive() ? undefined : await server.exited,
    notes,
  };
  for (const line of formatReport(report).split('\n')) t.diagnostic(line);
  recordReport(report);
  return report;
}

async function withinLimit<T>(work: Promise<T>, limitMs: number): Promise<T> {
  const abort = new AbortController();
  try {
    return await Promise.race([
      work,
      sleep(limitMs, undefined, { signal: abort.signal }).then(() => {
        throw new Error(`the attack did not stop by itself within ${limitMs} ms (a harness bug)`);
      }),
    ]);
  } finally {
    abort.abort();
  }
}
