import type { Manifest } from './manifest.js';
import type { DeployTarget, SkiffAppProps } from './app-props.js';
import {
  buildAutoscaler,
  buildConfigMap,
  buildDeployment,
  buildDisruptionBudget,
  buildIngress,
  buildService,
} from './build-workload.js';
import { buildInferenceService, buildSeldonDeployment } from './build-alternatives.js';

/**
 * Every object one instance consists of, in the order they are applied: configuration before the pods
 * that mount it, the Service before the Deployment so endpoints appear as soon as pods are ready.
 */
export function buildManifests(props: SkiffAppProps, target: DeployTarget = 'kubernetes'): Manifest[] {
  const config = props.modelConfigJson === undefined ? [] : [buildConfigMap(props, props.modelConfigJson)];
  switch (target) {
    case 'kserve':
      return [...config, buildInferenceService(props)];
    case 'seldon':
      return [...config, buildSeldonDeployment(props)];
    case 'kubernetes':
      return [
        ...config,
        buildService(props),
        buildDeployment(props),
        buildDisruptionBudget(props),
        ...(props.autoscaling === undefined ? [] : [buildAutoscaler(props, props.autoscaling)]),
        ...(props.ingress === undefined ? [] : [buildIngress(props, props.ingress)]),
      ];
  }
}
