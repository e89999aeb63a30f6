import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { SkiffAppProps } from './app-props.js';
import { SKIFF_SERVER } from './app-props.js';
import { buildContainer, buildProbes, buildVolumes, terminationGraceSeconds } from './build-pod-spec.js';
import type { ObjectMeta } from './manifest.js';
import { objectMeta } from './build-workload.js';

/** A KServe v1beta1 InferenceService; only the fields Skiff sets are typed. */
export interface InferenceService {
  readonly apiVersion: 'serving.kserve.io/v1beta1';
  readonly kind: 'InferenceService';
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly predictor: {
      readonly minReplicas: number;
      readonly maxReplicas: number;
      readonly containers: IContainer[];
      readonly volumes: IPodSpec['volumes'];
      readonly terminationGracePeriodSeconds: number;
    };
  };
}

/** A Seldon Core v1 SeldonDeployment; only the fields Skiff sets are typed. */
export interface SeldonDeployment {
  readonly apiVersion: 'machinelearning.seldon.io/v1';
  readonly kind: 'SeldonDeployment';
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly protocol: 'v2';
    readonly predictors: {
      readonly name: string;
      readonly replicas: number;
      readonly graph: {
        readonly name: string;
        readonly type: 'MODEL';
        readonly endpoint: { readonly type: 'REST'; readonly httpPort: number; readonly grpcPort: number };
        readonly children: [];
      };
      readonly componentSpecs: { readonly spec: IPodSpec }[];
    }[];
  };
}

/**
 * KServe runs a custom predictor container and speaks the Open Inference (V2) protocol to it. Knative
 * serves one port, so only HTTP is exposed; KServe brings its own autoscaling and routing.
 */
export function buildInferenceService(props: SkiffAppProps): InferenceService {
  const container = buildContainer(props);
  return {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: objectMeta(props),
    spec: {
      predictor: {
        minReplicas: props.autoscaling?.minReplicas ?? props.replicas,
        maxReplicas: props.autoscaling?.maxReplicas ?? props.replicas,
        containers: [
          {
            ...container,
            // KServe requires this container name for a custom predictor.
            name: 'kserve-container',
            ports: [{ containerPort: SKIFF_SERVER.httpPort, protocol: 'TCP' }],
            // The port is unnamed here (Knative allows one), so the probes address it by number.
            ...buildProbes(props, SKIFF_SERVER.httpPort),
          },
        ],
        volumes: buildVolumes(props),
        terminationGracePeriodSeconds: terminationGraceSeconds(props),
      },
    },
  };
}

/** Seldon Core v1 with protocol v2: its executor forwards OIP requests to Skiff's HTTP port. */
export function buildSeldonDeployment(props: SkiffAppProps): SeldonDeployment {
  const container = buildContainer(props);
  return {
    apiVersion: 'machinelearning.seldon.io/v1',
    kind: 'SeldonDeployment',
    metadata: objectMeta(props),
    spec: {
      protocol: 'v2',
      predictors: [
        {
          name: 'default',
          replicas: props.replicas,
          graph: {
            name: container.name,
            type: 'MODEL',
            endpoint: { type: 'REST', httpPort: SKIFF_SERVER.httpPort, grpcPort: SKIFF_SERVER.grpcPort },
            children: [],
          },
          componentSpecs: [
            {
              spec: {
                containers: [container],
                volumes: buildVolumes(props),
                terminationGracePeriodSeconds: terminationGraceSeconds(props),
                enableServiceLinks: false,
              },
            },
          ],
        },
      ],
    },
  };
}
