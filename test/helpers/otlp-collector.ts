// Test support: a stand-in OpenTelemetry Collector, so tracing is tested through the real SDK, exporter and
// OTLP/HTTP JSON encoding rather than a mocked exporter.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AnyValue {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
  doubleValue?: number;
}
export interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes: { key: string; value: AnyValue }[];
  status?: { code?: number; message?: string };
}
export interface ExportRequest {
  resourceSpans: {
    resource: { attributes: { key: string; value: AnyValue }[] };
    scopeSpans: { scope?: { name?: string; version?: string }; spans: ExportedSpan[] }[];
  }[];
}

/** Takes OTLP/HTTP JSON on POST /v1/traces and keeps what it got; answers `status` (200 unless told). */
export class OtlpCollector {
  readonly requests: ExportRequest[] = [];
  readonly contentTypes: string[] = [];
  private readonly server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (request.method === 'POST' && request.url === '/v1/traces') {
        this.contentTypes.push(String(request.headers['content-type']));
        this.requests.push(JSON.parse(body) as ExportRequest);
        response.writeHead(this.status, { 'content-type': 'application/json' }).end('{}');
      } else {
        response.writeHead(404).end();
      }
    });
  });

  constructor(private readonly status = 200) {}

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  spans(): ExportedSpan[] {
    return this.requests.flatMap((r) =>
      r.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((s) => s.spans)),
    );
  }

  resourceAttribute(key: string): unknown {
    const attributes = this.requests[0]?.resourceSpans[0]?.resource.attributes ?? [];
    return valueOf(attributes.find((a) => a.key === key)?.value);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export function valueOf(value: AnyValue | undefined): unknown {
  if (value === undefined) return undefined;
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.stringValue ?? value.boolValue ?? value.doubleValue;
}

export function attr(span: ExportedSpan | undefined, key: string): unknown {
  return valueOf(span?.attributes.find((a) => a.key === key)?.value);
}
