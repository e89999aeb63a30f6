import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { DeployConfig } from '../../config/deploy-options.js';
import { SkiffError } from '../../core/errors.js';
import { readRegularFileSync } from '../../host/regular-file.js';
import { ZOO, findZooEntry } from '../../store/zoo.js';
import { findEmbeddedModel } from '../../store/embedded-models.js';
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

/**
 * Sizes memory and the cache volume from the model: a named model's known size, else a local file's. A model
 * not named here (the image's own, baked in by skiff build) or a URL is unknown: it is sized like ResNet50,
 * which is larger than the default, so that pods are not killed for want of memory (--model-bytes says better).
 */
function modelBytesOf(model: string | undefined, cwd: string): number {
  const fallback = ZOO.resnet50.model.bytes ?? 102_576_593;
  if (model === undefined) return fallback;
  const known = findEmbeddedModel(model)?.bytes ?? findZooEntry(model)?.model.bytes;
  if (known !== undefined) return known;
  const local = path.resolve(cwd, model);
  if (!/^https?:/.test(model) && existsSync(local) && statSync(local).isFile()) return statSync(local).size;
  return fallback;
}

function readModelConfig(file: string): string {
  const text = readRegularFileSync(file, { code: 'SKIFF_CONFIG_UNREADABLE', what: '' }).toString('utf8');
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
