import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.js';

describe('observability settings', () => {
  it('turn metrics, the access log and the audit log on, and tracing off, by default', () => {
    const { observability } = loadConfig({});
    expect(observability.metrics).toEqual({ enabled: true, token: undefined, port: undefined });
    expect(observability.accessLog).toBe('info');
    expect(observability.audit).toMatchObject({ enabled: true, arguments: 'digest', maxEntries: 1_000_000, retentionMs: 90 * 86_400_000 });
    expect(observability.tracing).toBeUndefined();
  });

  it('trace once an OTLP endpoint is set, unless the SDK is disabled or the exporter is none', () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).observability.tracing).toEqual({
      url: 'http://collector:4318/v1/traces',
      serviceName: 'mcp-gateway',
    });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c/x', OTEL_SERVICE_NAME: 'gw' }).observability.tracing).toEqual({
      url: 'http://c/x',
      serviceName: 'gw',
    });
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'otlp' }).observability.tracing?.url).toBe('http://localhost:4318/v1/traces');
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }).observability.tracing).toBeUndefined();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }).observability.tracing).toBeUndefined();
  });

  it('refuse what this build cannot do, naming the variable', () => {
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' })).toThrow(/OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: must be http\/json/);
    expect(() => loadConfig({ MESHGATE_METRICS_TOKEN: 'short' })).toThrow(/MESHGATE_METRICS_TOKEN: must be at least 16 characters/);
    expect(() => loadConfig({ MESHGATE_AUDIT_ARGUMENTS: 'some' })).toThrow(/MESHGATE_AUDIT_ARGUMENTS/);
    expect(() => loadConfig({ MESHGATE_ACCESS_LOG: 'loud' })).toThrow(/MESHGATE_ACCESS_LOG/);
  });
});
