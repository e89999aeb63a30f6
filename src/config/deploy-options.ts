import { z } from 'zod';
import type { ConfigOf, OptionSpec, OptionTable } from './option-table.js';
import {
  IMAGE_OPTION,
  MODEL_SHA256_OPTION,
  THREADS_PER_WORKER_OPTION,
  VERBOSE_OPTION,
  WORKERS_OPTION,
} from './shared-options.js';

const positiveInt = z.number().int().positive();
const seconds = z.number().int().min(0).max(3600);
// A DNS-1035 label, short enough for "<app>-model-config" and the ReplicaSet/pod suffixes.
const dnsLabel = z
  .string()
  .regex(
    /^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/,
    'use lower-case letters, digits and "-", starting with a letter (at most 40)',
  );

/** Which instance and cluster every Kubernetes command works on. */
export const CLUSTER_OPTIONS = [
  {
    key: 'app',
    type: 'string',
    description: 'the instance name: the Deployment, Service and everything else are called this',
    defaultLabel: 'skiff',
    schema: dnsLabel.default('skiff'),
  },
  {
    key: 'namespace',
    short: 'n',
    type: 'string',
    description: 'Kubernetes namespace',
    defaultLabel: "the kubeconfig context's, else default",
    schema: dnsLabel.optional(),
  },
  {
    key: 'context',
    type: 'string',
    description: 'kubeconfig context to use',
    defaultLabel: 'the current context',
    schema: z.string().min(1).optional(),
  },
  {
    key: 'kubeconfig',
    type: 'string',
    placeholder: 'file',
    description: 'kubeconfig file',
    defaultLabel: '$KUBECONFIG, else ~/.kube/config, else in-cluster',
    schema: z.string().min(1).optional(),
  },
  VERBOSE_OPTION,
] as const satisfies readonly OptionSpec[];

/** What `skiff deploy` renders; the kustomize base in deploy/kustomize/base is these defaults. */
export const MANIFEST_OPTIONS = [
  {
    ...IMAGE_OPTION,
    description:
      'the Skiff image to run (skiff build); pin a tag or digest so a rollback has somewhere to go',
  },
  {
    key: 'imagePullPolicy',
    type: 'string',
    placeholder: 'Always|IfNotPresent|Never',
    description: 'when the kubelet pulls the image',
    defaultLabel: 'IfNotPresent',
    schema: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
  },
  {
    key: 'model',
    type: 'string',
    placeholder: 'name|url|/path',
    description:
      'what the pods serve: a model name shipped with Skiff (mobilenetv2-int8); a zoo name or URL, fetched at start into the cache; or an absolute path in the image',
    defaultLabel: "the image's own (a model baked in by skiff build --model, else mobilenetv2-int8)",
    schema: z.string().min(1).optional(),
  },
  { ...MODEL_SHA256_OPTION, description: 'expected sha256 of the model file, passed to the pods' },
  {
    key: 'modelBytes',
    type: 'integer',
    placeholder: 'bytes',
    description: 'model file size, for sizing memory and the cache (docs/kubernetes.md has the formula)',
    defaultLabel: "a named model's size, else the local file's, else resnet50's (102 MB)",
    schema: positiveInt.optional(),
  },
  {
    key: 'labels',
    type: 'string',
    placeholder: 'path|url',
    description: 'class labels as the pods see them (a path in the image or a URL)',
    defaultLabel: 'from model.json or the zoo entry',
    schema: z.string().min(1).optional(),
  },
  {
    key: 'config',
    type: 'string',
    placeholder: 'file',
    description: 'a local model.json, shipped in a ConfigMap and mounted into the pods',
    defaultLabel: 'none',
    schema: z.string().min(1).optional(),
  },
  {
    key: 'authSecret',
    type: 'string',
    placeholder: 'secret',
    description:
      'a Secret whose "token" key the pods require as a bearer token (kubectl create secret generic <name> --from-literal=token=...)',
    defaultLabel: 'none (no auth)',
    schema: dnsLabel.optional(),
  },
  { ...WORKERS_OPTION, description: 'inference worker threads per pod (each holds a copy of the weights)' },
  {
    ...THREADS_PER_WORKER_OPTION,
    description: 'intra-op threads per worker; set explicitly because a pod sees all of the node’s cores',
    defaultLabel: '1',
    schema: THREADS_PER_WORKER_OPTION.schema.removeDefault().default(1),
  },
  {
    key: 'replicas',
    type: 'integer',
    description: 'pods; with autoscaling, the minimum',
    defaultLabel: '2',
    schema: positiveInt.max(1000).default(2),
  },
  {
    key: 'maxReplicas',
    type: 'integer',
    description: 'autoscaling ceiling; a HorizontalPodAutoscaler is rendered when it is above --replicas',
    defaultLabel: '5',
    schema: positiveInt.max(1000).default(5),
  },
  {
    key: 'targetCpuPercent',
    type: 'integer',
    description: 'average CPU use, as a percentage of the request, the autoscaler aims for',
    defaultLabel: '70',
    schema: z.number().int().min(1).max(1000).default(70),
  },
  {
    key: 'customMetric',
    type: 'string',
    placeholder: 'name=value',
    description: 'also scale on a per-pod custom metric (needs a metrics adapter), e.g. skiff_queue_depth=8',
    defaultLabel: 'none',
    schema: z
      .string()
      .regex(
        /^[A-Za-z_:][A-Za-z0-9_:]*=[0-9]+(\.[0-9]+)?[a-zA-Z]*$/,
        'use name=value, e.g. skiff_queue_depth=8',
      )
      .optional(),
  },
  {
    key: 'serviceType',
    type: 'string',
    placeholder: 'ClusterIP|NodePort|LoadBalancer',
    description:
      'how the Service is exposed; LoadBalancer as in the seed (Docker Desktop maps it to localhost)',
    defaultLabel: 'ClusterIP',
    schema: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer']).default('ClusterIP'),
  },
  {
    key: 'ingressHost',
    type: 'string',
    placeholder: 'host',
    description: 'render an Ingress for this host name',
    defaultLabel: 'none (no Ingress)',
    schema: z.string().min(1).optional(),
  },
  {
    key: 'ingressClass',
    type: 'string',
    description: 'the Ingress class (nginx, gce, ...)',
    defaultLabel: "the cluster's default",
    schema: z.string().min(1).optional(),
  },
  {
    key: 'preStopSeconds',
    type: 'integer',
    description: 'pause before SIGTERM so load balancers stop sending to a terminating pod',
    defaultLabel: '5',
    schema: seconds.default(5),
  },
  {
    key: 'drainSeconds',
    type: 'integer',
    description:
      "time allowed after SIGTERM for requests in flight to finish (the server's --shutdown-timeout-ms)",
    defaultLabel: '30',
    schema: seconds.default(30),
  },
  {
    key: 'startupSeconds',
    type: 'integer',
    description: 'time allowed to fetch, load and warm up the model before the pod is restarted',
    defaultLabel: '300',
    schema: z.number().int().min(5).max(3600).default(300),
  },
  {
    key: 'progressDeadlineSeconds',
    type: 'integer',
    description: 'a rollout that makes no progress this long has failed (and is rolled back)',
    defaultLabel: '600',
    schema: z.number().int().min(10).max(7200).default(600),
  },
  {
    key: 'runAsUser',
    type: 'integer',
    placeholder: 'uid',
    description: 'numeric non-root user the container runs as',
    defaultLabel: '65532',
    schema: z
      .number()
      .int()
      .min(1)
      .max(2 ** 31 - 1)
      .default(65532),
  },
  {
    key: 'target',
    type: 'string',
    placeholder: 'kubernetes|kserve|seldon',
    description:
      'render plain Kubernetes objects, a KServe InferenceService, or a Seldon Core SeldonDeployment',
    defaultLabel: 'kubernetes',
    schema: z.enum(['kubernetes', 'kserve', 'seldon']).default('kubernetes'),
  },
] as const satisfies readonly OptionSpec[];

export const DEPLOY_RUN_OPTIONS = [
  {
    key: 'dryRun',
    type: 'boolean',
    description: 'print what would be applied and touch no cluster',
    defaultLabel: 'false',
    schema: z.boolean().default(false),
  },
  {
    key: 'outputFormat',
    short: 'o',
    type: 'string',
    placeholder: 'yaml|json',
    description: 'format of --dry-run output (JSON is a v1 List)',
    defaultLabel: 'yaml',
    schema: z.enum(['yaml', 'json']).default('yaml'),
  },
  {
    key: 'noRollback',
    type: 'boolean',
    description: 'leave a failed rollout as it is instead of rolling back to the previous revision',
    defaultLabel: 'false',
    schema: z.boolean().default(false),
  },
] as const satisfies readonly OptionSpec[];

export const LOGS_OPTIONS = [
  {
    key: 'follow',
    short: 'f',
    type: 'boolean',
    description: 'keep streaming new lines',
    defaultLabel: 'false',
    schema: z.boolean().default(false),
  },
  {
    key: 'tail',
    type: 'integer',
    description: 'lines from the end of each pod’s log',
    defaultLabel: '100',
    schema: z.number().int().min(0).max(100_000).default(100),
  },
] as const satisfies readonly OptionSpec[];

export const PORT_FORWARD_OPTIONS = [
  {
    key: 'localPort',
    type: 'integer',
    description: 'local port to listen on, on 127.0.0.1 (0 picks a free one)',
    defaultLabel: '5000',
    schema: z.number().int().min(0).max(65535).default(5000),
  },
] as const satisfies readonly OptionSpec[];

/**
 * Every key the `deploy` section of skiff.yaml may hold. All Kubernetes commands load this whole table, so a
 * project file written for `skiff deploy` also serves `skiff status`, `logs`, `port-forward` and `delete`.
 */
export const DEPLOY_SECTION_OPTIONS = [
  ...CLUSTER_OPTIONS,
  ...MANIFEST_OPTIONS,
  ...DEPLOY_RUN_OPTIONS,
  ...LOGS_OPTIONS,
  ...PORT_FORWARD_OPTIONS,
] as const satisfies OptionTable;

/** What every Kubernetes command runs with: the whole `deploy` section. */
export type DeployConfig = ConfigOf<typeof DEPLOY_SECTION_OPTIONS>;
