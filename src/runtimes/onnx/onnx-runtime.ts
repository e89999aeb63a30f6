import path from 'node:path';
import type { LoadedModel, Runtime, RuntimeLoadOptions } from '../../core/model/runtime.js';
import type { Tensor, TensorInfo } from '../../core/tensor/tensor.js';
import type { Logger } from '../../core/logger.js';
import type { WorkerInit } from './worker-messages.js';
import { WorkerPool } from './worker-pool.js';
import { SkiffError } from '../../core/errors.js';

/** Runs ONNX models with onnxruntime-node (CPU) in worker threads; the addon is only ever loaded there. */
export class OnnxRuntime implements Runtime {
  readonly name = 'onnxruntime';

  constructor(private readonly logger: Logger) {}

  async load(modelPath: string, options: RuntimeLoadOptions): Promise<LoadedModel> {
    const init: WorkerInit = { modelPath, threads: options.threadsPerWorker };
    const pool = new WorkerPool({
      script: new URL('./onnx-worker.js', import.meta.url),
      workerData: init,
      size: options.workers,
      logger: this.logger,
    });
    try {
      await pool.start();
    } catch (error) {
      // ORT names the full path; answers over the API must not reveal the server's file layout.
      if (error instanceof SkiffError) {
        throw new SkiffError(error.code, error.message.split(modelPath).join(path.basename(modelPath)), {
          cause: error,
        });
      }
      throw error;
    }
    return new OnnxModel(pool);
  }
}

class OnnxModel implements LoadedModel {
  constructor(private readonly pool: WorkerPool) {}

  get inputs(): readonly TensorInfo[] {
    return this.pool.inputs;
  }

  get outputs(): readonly TensorInfo[] {
    return this.pool.outputs;
  }

  infer(
    inputs: Readonly<Record<string, Tensor>>,
    outputNames?: readonly string[],
  ): Promise<Record<string, Tensor>> {
    return this.pool.run({ ...inputs }, outputNames);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
