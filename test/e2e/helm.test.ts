/**
 * The Helm chart (deploy/helm/meshgate), rendered without helm or a cluster by the
 * subset renderer (test/helpers/helm-template.ts; docs/decisions/0006-helm-template-subset.md),
 * and every rendered object validated against the Kubernetes schemas (kubernetes-models).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { renderChart, renderTemplate, TemplateError } from '../helpers/helm-template.js';
import { REPO_ROOT } from '../helpers/process.js';

const CHART = join(REPO_ROOT, 'deploy/helm/meshgate');
const SESSION_KEY = Buffer.alloc(32, 4).toString('base64');
const SECRETS = {
  sessionKeys: SESSION_KEY,
  secretKey: Buffer.alloc(32, 5).toString('base64'),
  databaseUrl: 'postgres://mg:pw@db:5432/mg',
  bearerToken: 'a-client-token',
};
const release = { name: 'prod', namespace: 'mcp' };

/** The model class of each kind the chart renders; validate() checks the object against the Kubernetes OpenAPI schema. */
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1 Deployment': Deployment,
  'v1 Service': Service,
  'v1 ConfigMap': ConfigMap,
  'v1 Secret': Secret,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2 HorizontalPodAutoscaler': HorizontalPodAutoscaler,
};

function rendered() {
  const objects = renderChart(CHART, release, { secrets: SECRETS });
  const byKind = Object.fromEntries(objects.map(({ object }) => [String(object.kind), object])) as Record<string, any>;
  return { objects, byKind };
}

describe('deploy/helm/meshgate', () => {
  it('has a Helm chart layout: Chart.yaml (apiVersion v2, semver version), values.yaml, templates/', () => {
    const chart = parseYaml(readFileSync(join(CHART, 'Chart.yaml'), 'utf8'));
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'meshgate', type: 'application' });
    expect(chart.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(readdirSync(join(CHART, 'templates')).sort()).toEqual(['configmap.yaml', 'deployment.yaml', 'hpa.yaml', 'pdb.yaml', 'secret.yaml', 'service.yaml']);
  });

  it('renders a Deployment, Service, ConfigMap, Secret, PodDisruptionBudget and HorizontalPodAutoscaler, each valid against the Kubernetes schemas', () => {
    const { objects } = rendered();
    expect(objects.map(({ object }) => `${object.apiVersion} ${object.kind}`).sort()).toEqual(Object.keys(MODELS).sort());
    for (const { file, object } of objects) {
      const Model = MODELS[`${object.apiVersion} ${object.kind}`];
      expect(Model, file).toBeDefined();
      expect(() => new (Model as NonNullable<typeof Model>)(object).validate(), file).not.toThrow();
      expect(object.metadata).toMatchObject({ name: 'prod-meshgate', namespace: 'mcp' });
    }
  });

  it('the schema validation really checks: a wrong type in a rendered object is refused', () => {
    const { byKind } = rendered();
    expect(() => new Deployment({ ...byKind.Deployment, spec: { ...byKind.Deployment.spec, replicas: 'three' } }).validate()).toThrow(
      /replicas must be integer/,
    );
  });

  it('probes /health for readiness and liveness, and takes every setting from the ConfigMap and the Secret', () => {
    const { byKind } = rendered();
    const [container] = byKind.Deployment.spec.template.spec.containers;
    expect(container.readinessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(container.envFrom).toEqual([{ configMapRef: { name: 'prod-meshgate' } }, { secretRef: { name: 'prod-meshgate' } }]);
    expect(container.image).toBe('meshgate/gateway:0.1.0');
    expect(byKind.Deployment.spec.selector.matchLabels).toEqual(byKind.Service.spec.selector);
    expect(byKind.Deployment.spec.selector.matchLabels).toEqual(byKind.PodDisruptionBudget.spec.selector.matchLabels);
    expect(byKind.Service.spec.sessionAffinity).toBe('None');
    expect(byKind.HorizontalPodAutoscaler.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'prod-meshgate' });
    expect(byKind.ConfigMap.data).toMatchObject({ HOST: '0.0.0.0', PORT: '3001', LOG_LEVEL: 'info' });
  });

  it('keeps the session key, secret key, database URL and token in the Secret only', () => {
    const { byKind, objects } = rendered();
    const data = byKind.Secret.data as Record<string, string>;
    const decoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    expect(decoded).toEqual({
      MESHGATE_SESSION_KEYS: SESSION_KEY,
      MESHGATE_SECRET_KEY: SECRETS.secretKey,
      MESHGATE_DATABASE_URL: SECRETS.databaseUrl,
      MCP_BEARER_TOKEN: SECRETS.bearerToken,
    });
    for (const { object } of objects.filter(({ object }) => object.kind !== 'Secret')) {
      expect(JSON.stringify(object)).not.toContain(SESSION_KEY);
      expect(JSON.stringify(object)).not.toContain('pw@db');
    }
  });

  it('refuses to render without the secrets, saying which to set', () => {
    expect(() => renderChart(CHART, release)).toThrow(/set secrets\.sessionKeys \(openssl rand -base64 32\)/);
    expect(() => renderChart(CHART, release, { secrets: { ...SECRETS, databaseUrl: '' } })).toThrow(/set secrets\.databaseUrl/);
  });
});

describe('the template subset renderer', () => {
  const scope = {
    Values: { a: { b: 'x y', n: 3, map: { k: 'v' } } },
    Release: { Name: 'r', Namespace: 'ns' },
    Chart: { Name: 'c', Version: '1.0.0', AppVersion: '2' },
  };

  it('renders values, quote, b64enc, toYaml with nindent and indent, required, and trims whitespace with {{- -}}', () => {
    expect(renderTemplate('v: {{ .Values.a.b | quote }}', scope)).toBe('v: "x y"');
    expect(renderTemplate('n: {{ .Values.a.n }}', scope)).toBe('n: 3');
    expect(renderTemplate('s: {{ .Values.a.b | b64enc }}', scope)).toBe(`s: ${Buffer.from('x y').toString('base64')}`);
    expect(renderTemplate('m:\n  {{- .Values.a.map | toYaml | nindent 2 }}\nz: 1', scope)).toBe('m:\n  k: v\nz: 1');
    expect(renderTemplate('{{ .Values.a.map | toYaml | indent 4 }}', scope)).toBe('    k: v');
    expect(renderTemplate('{{ .Release.Name }}-{{ .Chart.Name }}', scope)).toBe('r-c');
    expect(renderTemplate('{{ required "set a.b" .Values.a.b }}', scope)).toBe('x y');
  });

  it.each([
    ['if', '{{ if .Values.a.b }}x{{ end }}', /"if" is outside the template subset/],
    ['range', '{{ range .Values.a.map }}{{ end }}', /"range" is outside the template subset/],
    ['include', '{{ include "meshgate.fullname" . }}', /"include"/],
    ['a function outside it', '{{ .Values.a.b | upper }}', /"upper" is outside the template subset/],
    ['a variable', '{{ $x := .Values.a.b }}', /outside the template subset/],
    ['the root context', '{{ . }}', /"\." is outside the template subset/],
    ['a missing value', '{{ .Values.a.nope }}', /\.Values\.a\.nope names nothing/],
    ['an unterminated action', 'x {{ .Values.a.b', /unterminated/],
    ['a required value left empty', '{{ required "set it" .Values.a.empty }}', /names nothing/],
    ['nindent without a number', '{{ .Values.a.map | toYaml | nindent }}', /nindent takes one whole number/],
  ])('refuses %s', (_, template, message) => {
    expect(() => renderTemplate(template, scope)).toThrow(TemplateError);
    expect(() => renderTemplate(template, scope)).toThrow(message);
  });

  it('refuses a required value that is empty, with its message', () => {
    expect(() => renderTemplate('{{ required "set secrets.x" .Values.a.e }}', { ...scope, Values: { a: { e: '' } } })).toThrow(/set secrets\.x/);
  });
});
