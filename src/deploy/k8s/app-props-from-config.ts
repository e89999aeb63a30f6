import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { DeployConfig } from '../../config/deploy-options.js';
import { SkiffError } from '../../core/errors.js';
import { DEFAULT_ZOO_MODEL, ZOO } from '../../store/zoo.js';
import type { AutoscalingProps, SkiffAppProps } from './app-props.js';

/** Turns the validated deploy configuration into builder props: reads model.json, works out the model size. */
export function appPropsFromConfig(config: DeployConfig, cwd: string): SkiffAppProps {
  return Object.freeze({
    name: config.app,
    namespace: config.namespace,
    image: config.image,
    imagePullPolicy: config.imagePullPolicy,
    replicas: config.replicas,
    model: config.model,
    modelBytes: config.modelBytes ?? modelBytesOf(config.model, cwd),
    modelSha256: config.modelSha256,
    labels: config.labels,
    modelConfigJson:
      config.config === undefined ? undefined : readModelConfig(path.resolve(cwd, config.config)),
    authSecret: config.authSecret,
    workers: config.workers,
    threadsPerWorker: config.threadsPerWorker,
    serviceType: config.serviceType,
    autoscaling: autoscalingOf(config),
    ingress:
      config.ingressHost === undefined
        ? undefined
        : { host: config.ingressHost, className: config.ingressClass },
    preStopSeconds: config.preStopSeconds,
    drainSeconds: config.drainSeconds,
    startupSeconds: config.startupSeconds,
    progressDeadlineSeconds: config.progressDeadlineSeconds,
    runAsUser: config.runAsUser,
  });
}

function autoscalingOf(config: DeployConfig): AutoscalingProps | undefined {
  if (config.maxReplicas <= config.replicas) return undefined;
  const metric = config.customMetric?.split('=');
  return {
    minReplicas: config.replicas,
    maxReplicas: config.maxReplicas,
    targetCpuPercent: config.targetCpuPercent,
    customMetric:
      metric?.[0] === undefined || metric[1] === undefined
        ? undefined
        : { name: metric[0], averageValue: metric[1] },
  };
}

function modelBytesOf(model: string | undefined, cwd: string): number {
  const name = model ?? DEFAULT_ZOO_MODEL;
  const zoo = Object.values(ZOO).find((entry) => entry.name === name);
  if (zoo?.model.bytes !== undefined) return zoo.model.bytes;
  const local = path.resolve(cwd, name);
  if (!/^https?:/.test(name) && existsSync(local) && statSync(local).isFile()) return statSync(local).size;
  return ZOO.resnet50.model.bytes ?? 102_576_593;
}

function readModelConfig(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SkiffError(
      'SKIFF_CONFIG_UNREADABLE',
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      {
        cause: error,
      },
    );
  }
  try {
    JSON.parse(text);
  } catch (error) {
    throw new SkiffError(
      'SKIFF_CONFIG_UNREADABLE',
      `${file} is not valid JSON: ${error instanceof Error ? error.message : ''}`,
      {
        cause: error,
      },
    );
  }
  return text;
}
