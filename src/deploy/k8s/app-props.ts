export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer';

export type ImagePullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/** Which resources to render for the same image: plain Kubernetes objects, a KServe InferenceService or a SeldonDeployment. */
export type DeployTarget = 'kubernetes' | 'kserve' | 'seldon';

export interface AutoscalingProps {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly targetCpuPercent: number;
  /** A per-pod metric from a custom metrics adapter (e.g. prometheus-adapter), scaled on its average value. */
  readonly customMetric?: { readonly name: string; readonly averageValue: string } | undefined;
}

export interface IngressProps {
  readonly host: string;
  readonly className?: string | undefined;
}

/** Everything the manifest builders need; produced once from the deploy configuration and never mutated. */
export interface SkiffAppProps {
  /** The instance name: Deployment, Service and the rest are all called this. A DNS-1035 label. */
  readonly name: string;
  /** Left out of the manifests when undefined, so kustomize or the current context decides. */
  readonly namespace?: string | undefined;
  readonly image: string;
  readonly imagePullPolicy: ImagePullPolicy;
  /** Ignored by the Deployment when autoscaling is on: the HPA owns the replica count then. */
  readonly replicas: number;
  /**
   * What `skiff serve --model` gets: a zoo name or URL (fetched at start) or a path inside the image (baked).
   * Undefined leaves SKIFF_MODEL to the image, which names its baked model (or serve's default).
   */
  readonly model?: string | undefined;
  readonly modelBytes: number;
  readonly modelSha256?: string | undefined;
  readonly labels?: string | undefined;
  /** The text of a model.json to ship in a ConfigMap; undefined means none. */
  readonly modelConfigJson?: string | undefined;
  /** A Secret whose `token` key the server requires as a bearer token (health routes stay open for probes). */
  readonly authSecret?: string | undefined;
  readonly workers: number;
  readonly threadsPerWorker: number;
  readonly serviceType: ServiceType;
  readonly autoscaling?: AutoscalingProps | undefined;
  readonly ingress?: IngressProps | undefined;
  readonly preStopSeconds: number;
  readonly drainSeconds: number;
  readonly startupSeconds: number;
  readonly progressDeadlineSeconds: number;
  readonly runAsUser: number;
}

/** Facts about `skiff serve` that the manifests must agree with. */
export const SKIFF_SERVER = Object.freeze({
  httpPort: 5000,
  grpcPort: 8081,
  livePath: '/v2/health/live',
  readyPath: '/v2/health/ready',
  predictPath: '/predict',
  cacheDir: '/var/cache/skiff',
  configDir: '/etc/skiff',
  containerName: 'skiff',
});
