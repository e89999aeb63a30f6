import { ZOO } from './zoo.js';
import type { ZooName } from './zoo.js';
import { DEFAULT_MODEL, findEmbeddedModel } from './embedded-models.js';

/**
 * ONNX Runtime alone, batch 1, 2 intra-op threads, on a 2-core AMD EPYC with AVX-512 VNNI (2026-12-06): the
 * ResNet50 rows ran the benchmark's random-weight ResNet50 of the same architecture (and its own QDQ int8),
 * squeezenet1.1 its fp32 re-wrap. Relative speed carries over to other CPUs better than the figures do;
 * int8 gains most where the CPU has VNNI. Unmeasured here: the zoo's own int8 file, resnet50-v2, mobilenetv2 fp32.
 */
const IMAGES_PER_SECOND: Readonly<Partial<Record<ZooName | typeof DEFAULT_MODEL, number>>> = {
  [DEFAULT_MODEL]: 300,
  resnet50: 48,
  'resnet50-int8': 130,
  'squeezenet1.1': 450,
};

/** The table `skiff serve --help` ends with: what each model name costs, so the choice is an informed one. */
export function modelChoicesHelp(): string {
  const embedded = findEmbeddedModel(DEFAULT_MODEL);
  const rows: string[][] = [['name', 'where', 'size', 'top-1', 'img/s']];
  const row = (name: string, where: string, bytes: number | undefined, top1: number | undefined): void => {
    const speed = IMAGES_PER_SECOND[name as keyof typeof IMAGES_PER_SECOND];
    rows.push([
      name,
      where,
      bytes === undefined ? '?' : `${(bytes / 1e6).toFixed(1)} MB`,
      top1 === undefined ? '?' : `${top1.toFixed(1)} %`,
      speed === undefined ? '-' : `~${speed}`,
    ]);
  };
  if (embedded !== undefined)
    row(embedded.name, 'ships with Skiff (default)', embedded.bytes, embedded.accuracy.top1Percent);
  for (const entry of Object.values(ZOO))
    row(entry.name, 'ONNX zoo, downloaded once', entry.model.bytes, entry.accuracy?.top1Percent);
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((r) => (r[column] ?? '').length))) ?? [];
  const lines = rows.map((r) =>
    `  ${r.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ')}`.trimEnd(),
  );
  return `Models by name (top-1 as published; img/s: the engine alone, 2 threads, AVX-512 VNNI; docs/model-sources.md):\n${lines.join('\n')}`;
}
