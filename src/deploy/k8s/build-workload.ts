import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IMetricSpec } from 'kubernetes-models/autoscaling/v2/MetricSpec';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IService } from 'kubernetes-models/v1/Service';
import type { AutoscalingProps, IngressProps, SkiffAppProps } from './app-props.js';
import { SKIFF_SERVER } from './app-props.js';
import type { ObjectMeta } from './manifest.js';
import { selectorLabels, standardLabels } from './labels.js';
import { MODEL_CONFIG_FILE, buildPodSpec, configMapName, podAnnotations } from './build-pod-spec.js';

export function objectMeta(props: SkiffAppProps, name: string = props.name): ObjectMeta {
  return {
    name,
    ...(props.namespace === undefined ? {} : { namespace: props.namespace }),
    labels: { ...standardLabels(props) },
  };
}

export function buildDeployment(props: SkiffAppProps): IDeployment {
  const selector = selectorLabels(props);
  const annotations = podAnnotations(props);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: objectMeta(props),
    spec: {
      // With an HPA the replica count is its to set; applying one here would undo its scaling on every deploy.
      ...(props.autoscaling === undefined ? { replicas: props.replicas } : {}),
      revisionHistoryLimit: 5,
      progressDeadlineSeconds: props.progressDeadlineSeconds,
      selector: { matchLabels: { ...selector } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels: { ...standardLabels(props) },
          ...(annotations === undefined ? {} : { annotations }),
        },
        spec: buildPodSpec(props, selector),
      },
    },
  };
}

export function buildService(props: SkiffAppProps): IService {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: objectMeta(props),
    spec: {
      type: props.serviceType,
      selector: { ...selectorLabels(props) },
      ports: [
        {
          name: 'http',
          port: SKIFF_SERVER.httpPort,
          targetPort: 'http',
          protocol: 'TCP',
          appProtocol: 'http',
        },
        {
          name: 'grpc',
          port: SKIFF_SERVER.grpcPort,
          targetPort: 'grpc',
          protocol: 'TCP',
          appProtocol: 'grpc',
        },
      ],
    },
  };
}

export function buildAutoscaler(
  props: SkiffAppProps,
  autoscaling: AutoscalingProps,
): IHorizontalPodAutoscaler {
  const metrics: IMetricSpec[] = [
    {
      type: 'Resource',
      resource: {
        name: 'cpu',
        target: { type: 'Utilization', averageUtilization: autoscaling.targetCpuPercent },
      },
    },
  ];
  if (autoscaling.customMetric !== undefined) {
    metrics.push({
      type: 'Pods',
      pods: {
        metric: { name: autoscaling.customMetric.name },
        target: { type: 'AverageValue', averageValue: autoscaling.customMetric.averageValue },
      },
    });
  }
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: objectMeta(props),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: props.name },
      minReplicas: autoscaling.minReplicas,
      maxReplicas: autoscaling.maxReplicas,
      metrics,
      behavior: {
        // Loading a model takes a while; scale down slowly so a short lull does not throw warm pods away.
        scaleDown: {
          stabilizationWindowSeconds: 300,
          policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }],
        },
      },
    },
  };
}

export function buildDisruptionBudget(props: SkiffAppProps): IPodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: objectMeta(props),
    spec: {
      // maxUnavailable rather than minAvailable: with one replica a node drain still proceeds.
      maxUnavailable: 1,
      selector: { matchLabels: { ...selectorLabels(props) } },
    },
  };
}

export function buildIngress(props: SkiffAppProps, ingress: IngressProps): IIngress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: objectMeta(props),
    spec: {
      ...(ingress.className === undefined ? {} : { ingressClassName: ingress.className }),
      rules: [
        {
          host: ingress.host,
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: props.name, port: { name: 'http' } } },
              },
            ],
          },
        },
      ],
    },
  };
}

export function buildConfigMap(props: SkiffAppProps, modelConfigJson: string): IConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: objectMeta(props, configMapName(props)),
    data: { [MODEL_CONFIG_FILE]: modelConfigJson },
  };
}
