import path from 'node:path';
import type { CommandIo } from '../command-spec.js';
import { MODELS_COMMAND } from '../command-table.js';
import { readCommand } from '../read-command.js';
import type { ImageInputContract } from '../../core/model/model-config.js';
import { silentLogger } from '../../core/logger.js';

interface Row {
  readonly name: string;
  readonly versions: string[];
  readonly inputs: string[];
  readonly outputs: string[];
  readonly expects: string;
}

/** `skiff models`: loads each repository model once (one worker, one thread) and describes its contract. */
export async function modelsCommand(io: CommandIo): Promise<number> {
  const config = readCommand(MODELS_COMMAND, io);
  if (config === undefined) return 0;
  // Loaded here only: other commands must not pay for (or need) the ONNX addon.
  const [
    { FileModelRepository, noModelFolders },
    { createOnnxRuntime },
    { ServedModels },
    { ModelRepository },
  ] = await Promise.all([
    import('../../store/file-model-repository.js'),
    import('../../runtimes/onnx/create-onnx-runtime.js'),
    import('../../core/registry/served-models.js'),
    import('../../core/registry/model-repository.js'),
  ]);
  const source = new FileModelRepository(path.resolve(io.cwd, config.modelRepository));
  const names = await source.listNames();
  if (names.length === 0) throw noModelFolders(config.modelRepository);
  // Only loaded and described here, never asked to infer: only the models table is needed.
  const models = new ServedModels();
  const repository = new ModelRepository(source, models, createOnnxRuntime({ logger: silentLogger }), {
    runtimeOptions: { workers: 1, threadsPerWorker: 1 },
    maxQueueSize: 1,
    logger: silentLogger,
    now: () => performance.now(),
  });
  await repository.loadAll();
  const rows: Row[] = names.map((name) => {
    const versions = models.versions(name);
    const model = versions[0];
    if (model === undefined || model.state !== 'ready') {
      return {
        name,
        versions: versions.map((v) => v.version),
        inputs: [],
        outputs: [],
        // The person at this terminal runs the server: the whole failure, not the clients' sentence.
        expects: `failed to load: ${model?.failure instanceof Error ? model.failure.message : (model?.reason ?? 'unknown')}`,
      };
    }
    const describe = (infos: readonly { name: string; type: string; shape: readonly number[] }[]): string[] =>
      infos.map((i) => `${i.name} ${i.type} [${i.shape.join(',')}]`);
    const expects = model.classifier.ok
      ? imageContract(
          model.classifier.contract.input,
          model.classifier.contract.labels?.full.length,
          model.classifier.contract.output.classCount,
        )
      : `tensors (${model.classifier.reason})`;
    return {
      name,
      versions: versions.map((v) => v.version),
      inputs: describe(model.inputs),
      outputs: describe(model.outputs),
      expects,
    };
  });
  await Promise.all(models.list().map((m) => m.unload(0)));
  io.stdout(config.json ? `${JSON.stringify(rows, null, 2)}\n` : table(rows));
  return rows.some((r) => r.expects.startsWith('failed')) ? 2 : 0;
}

function imageContract(input: ImageInputContract, labels: number | undefined, classes: number): string {
  const resize =
    input.resizeMode === 'stretch' ? 'stretch' : `shorter side ${input.resizeShorterSide} + centre crop`;
  return `image: ${input.colorOrder} ${input.layout} ${input.dtype} ${input.height}x${input.width}, ${resize}, scale ${round(input.scale)} mean [${input.mean.map(round).join(',')}] std [${input.std.map(round).join(',')}]; ${classes} outputs, ${labels === undefined ? 'no labels' : `${labels} labels`}`;
}

function round(value: number): string {
  return String(Math.round(value * 10000) / 10000);
}

function table(rows: readonly Row[]): string {
  const cells = rows.map((r) => [
    r.name,
    r.versions.join(','),
    r.inputs.join('; ') || '-',
    r.outputs.join('; ') || '-',
    r.expects,
  ]);
  const header = ['MODEL', 'VERSIONS', 'INPUTS', 'OUTPUTS', 'EXPECTS'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]): string =>
    c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i] ?? 0))).join('  ');
  return `${[line(header), ...cells.map(line)].join('\n')}\n`;
}
