import { createHash } from 'node:crypto';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import type { SkiffAppProps } from './app-props.js';
import { SKIFF_SERVER } from './app-props.js';
import { sizeResources } from './size-resources.js';

export const MODEL_CONFIG_FILE = 'model.json';
/** The key of the bearer token in the Secret named by --auth-secret. */
export const AUTH_SECRET_KEY = 'token';
const PROBE_PERIOD_SECONDS = 5;
// What terminationGracePeriodSeconds adds on top of the pre-stop delay and the drain, for process exit.
const EXIT_MARGIN_SECONDS = 5;

export function configMapName(props: Pick<SkiffAppProps, 'name'>): string {
  return `${props.name}-model-config`;
}

/** Seconds Kubernetes waits after SIGTERM is due: pre-stop delay, then the drain, then a margin to exit. */
export function terminationGraceSeconds(
  props: Pick<SkiffAppProps, 'preStopSeconds' | 'drainSeconds'>,
): number {
  return props.preStopSeconds + props.drainSeconds + EXIT_MARGIN_SECONDS;
}

function env(props: SkiffAppProps): IEnvVar[] {
  const vars: [string, string | undefined][] = [
    ['SKIFF_MODEL', props.model],
    ['SKIFF_MODEL_SHA256', props.modelSha256],
    ['SKIFF_LABELS', props.labels],
    [
      'SKIFF_CONFIG',
      props.modelConfigJson === undefined ? undefined : `${SKIFF_SERVER.configDir}/${MODEL_CONFIG_FILE}`,
    ],
    ['SKIFF_HOST', '0.0.0.0'],
    ['SKIFF_PORT', String(SKIFF_SERVER.httpPort)],
    ['SKIFF_GRPC_PORT', String(SKIFF_SERVER.grpcPort)],
    ['SKIFF_CACHE_DIR', SKIFF_SERVER.cacheDir],
    // The pre-stop hook has already kept the pod serving while endpoints were removed; the server need not wait
    // again, and gets the rest of the grace period for requests in flight.
    ['SKIFF_DRAIN_DELAY_MS', '0'],
    ['SKIFF_SHUTDOWN_TIMEOUT_MS', String(props.drainSeconds * 1000)],
    ['SKIFF_WORKERS', String(props.workers)],
    // Without it, skiff serve would use one thread per core of the node, not of the pod's CPU limit.
    ['SKIFF_THREADS_PER_WORKER', String(props.threadsPerWorker)],
  ];
  const plain: IEnvVar[] = vars.flatMap(([name, value]) => (value === undefined ? [] : [{ name, value }]));
  if (props.authSecret === undefined) return plain;
  return [
    ...plain,
    {
      name: 'SKIFF_AUTH_TOKEN',
      valueFrom: { secretKeyRef: { name: props.authSecret, key: AUTH_SECRET_KEY } },
    },
  ];
}

function httpProbe(
  path: string,
  port: string | number,
  periodSeconds: number,
  failureThreshold: number,
  timeoutSeconds: number,
): IProbe {
  return { httpGet: { path, port }, periodSeconds, failureThreshold, timeoutSeconds, successThreshold: 1 };
}

/**
 * Ready means loaded and warmed up, so start-up is bounded by the ready route (model download included);
 * liveness only begins once start-up has succeeded, and never restarts a pod for being busy loading.
 */
export function buildProbes(
  props: Pick<SkiffAppProps, 'startupSeconds'>,
  port: string | number = 'http',
): { startupProbe: IProbe; readinessProbe: IProbe; livenessProbe: IProbe } {
  return {
    startupProbe: httpProbe(
      SKIFF_SERVER.readyPath,
      port,
      PROBE_PERIOD_SECONDS,
      Math.ceil(props.startupSeconds / PROBE_PERIOD_SECONDS),
      2,
    ),
    readinessProbe: httpProbe(SKIFF_SERVER.readyPath, port, PROBE_PERIOD_SECONDS, 2, 2),
    livenessProbe: httpProbe(SKIFF_SERVER.livePath, port, 10, 3, 5),
  };
}

/** The Skiff container: ports, probes on the real health routes, pre-stop delay, sized resources, locked down. */
export function buildContainer(props: SkiffAppProps): IContainer {
  const sizing = sizeResources(props.modelBytes, props.workers, props.threadsPerWorker);
  const mounts: IVolumeMount[] = [
    { name: 'model-cache', mountPath: SKIFF_SERVER.cacheDir },
    { name: 'tmp', mountPath: '/tmp' },
    ...(props.modelConfigJson === undefined
      ? []
      : [{ name: 'model-config', mountPath: SKIFF_SERVER.configDir, readOnly: true }]),
  ];
  return {
    name: SKIFF_SERVER.containerName,
    image: props.image,
    imagePullPolicy: props.imagePullPolicy,
    ports: [
      { name: 'http', containerPort: SKIFF_SERVER.httpPort, protocol: 'TCP' },
      { name: 'grpc', containerPort: SKIFF_SERVER.grpcPort, protocol: 'TCP' },
    ],
    env: env(props),
    resources: {
      requests: { cpu: `${sizing.cpuRequestMillis}m`, memory: `${sizing.memoryMiB}Mi` },
      limits: { cpu: `${sizing.cpuLimitMillis}m`, memory: `${sizing.memoryMiB}Mi` },
    },
    ...buildProbes(props),
    lifecycle: {
      // Endpoints are removed asynchronously; keep serving until load balancers have stopped sending.
      // The image has node but no shell or sleep binary.
      preStop: {
        exec: { command: ['node', '-e', `setTimeout(() => {}, ${props.preStopSeconds * 1000})`] },
      },
    },
    volumeMounts: mounts,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: props.runAsUser,
      runAsGroup: props.runAsUser,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
}

export function buildVolumes(props: SkiffAppProps): IVolume[] {
  const sizing = sizeResources(props.modelBytes, props.workers, props.threadsPerWorker);
  return [
    { name: 'model-cache', emptyDir: { sizeLimit: `${sizing.cacheMiB}Mi` } },
    { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
    ...(props.modelConfigJson === undefined
      ? []
      : [{ name: 'model-config', configMap: { name: configMapName(props) } }]),
  ];
}

/** The pod spec shared by the Deployment and the Seldon alternative. */
export function buildPodSpec(props: SkiffAppProps, selector: Readonly<Record<string, string>>): IPodSpec {
  return {
    containers: [buildContainer(props)],
    volumes: buildVolumes(props),
    terminationGracePeriodSeconds: terminationGraceSeconds(props),
    // A Service named like the app would otherwise inject SKIFF_PORT=tcp://... and friends into the environment.
    enableServiceLinks: false,
    automountServiceAccountToken: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: props.runAsUser,
      runAsGroup: props.runAsUser,
      fsGroup: props.runAsUser,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: { ...selector } },
      },
    ],
  };
}

/** Pod-template annotations that change when mounted configuration changes, so a new config rolls the pods. */
export function podAnnotations(props: SkiffAppProps): Record<string, string> | undefined {
  if (props.modelConfigJson === undefined) return undefined;
  return {
    'skiff.dev/model-config-sha256': createHash('sha256').update(props.modelConfigJson).digest('hex'),
  };
}
