import { SkiffError } from '../core/errors.js';

/** Where and as what traces are exported; absent means tracing is off. */
export interface TracingSettings {
  /** The full OTLP/HTTP traces URL (…/v1/traces). */
  readonly tracesUrl: string;
  readonly serviceName: string;
  /** Which setting switched tracing on, for the start-up log line. */
  readonly source: string;
}

const TRACES_PATH = '/v1/traces';

/**
 * Skiff's own options win (--otlp-endpoint, SKIFF_OTLP_ENDPOINT, the project file), then the standard
 * OpenTelemetry variables: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (a full URL, used as is), then
 * OTEL_EXPORTER_OTLP_ENDPOINT (a base URL, /v1/traces added). OTEL_SDK_DISABLED=true turns tracing off
 * whatever is set. The service name: --otlp-service-name, then OTEL_SERVICE_NAME, then "skiff".
 */
export function resolveTracing(
  options: { readonly otlpEndpoint?: string | undefined; readonly otlpServiceName?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
): TracingSettings | undefined {
  if (/^true$/i.test(env.OTEL_SDK_DISABLED?.trim() ?? '')) return undefined;
  const serviceName = options.otlpServiceName ?? nonEmpty(env.OTEL_SERVICE_NAME) ?? 'skiff';
  if (options.otlpEndpoint !== undefined) {
    return {
      tracesUrl: tracesUrl(options.otlpEndpoint, '--otlp-endpoint'),
      serviceName,
      source: 'otlpEndpoint',
    };
  }
  const traces = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  if (traces !== undefined) {
    checkUrl(traces, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
    return { tracesUrl: traces, serviceName, source: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' };
  }
  const base = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  if (base !== undefined) {
    return {
      tracesUrl: tracesUrl(base, 'OTEL_EXPORTER_OTLP_ENDPOINT'),
      serviceName,
      source: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    };
  }
  return undefined;
}

/** A collector's base URL plus /v1/traces; a URL that already ends so is kept (a common slip). */
function tracesUrl(base: string, origin: string): string {
  checkUrl(base, origin);
  const trimmed = base.replace(/\/+$/, '');
  return trimmed.endsWith(TRACES_PATH) ? trimmed : `${trimmed}${TRACES_PATH}`;
}

function checkUrl(value: string, origin: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SkiffError('SKIFF_CONFIG_INVALID', `${origin}: "${value}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new SkiffError('SKIFF_CONFIG_INVALID', `${origin}: use an http:// or https:// URL (OTLP/HTTP)`);
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}
