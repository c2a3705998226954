/**
 * Name clashes between services: the first owner keeps the bare name, the newcomer's tool
 * is exposed as <service>__<tool>, every tool answers to its qualified name, and nothing
 * is re-routed silently.
 */
import type { RunningService } from '@meshgate/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, FIXTURE_CREDENTIAL, type Mesh, rpc, startFixtureService, startMesh } from '../helpers/mesh.js';
import { stopAll } from '../helpers/process.js';

let mesh: Mesh;
let rival: RunningService;

beforeAll(async () => {
  mesh = await startMesh();
  rival = await startFixtureService('rival-shop', ['getProductById', 'getCoupon']);
  const registered = await api(mesh.gateway.url, 'POST', '/register', { name: 'rival-shop', url: `${rival.url}/mcp`, credential: FIXTURE_CREDENTIAL });
  expect(registered.status).toBe(201);
});
afterAll(async () => {
  await rival?.close();
  await stopAll();
});

const names = async () => (await rpc(mesh.gateway.url, 'tools/list')).body.result.tools.map((tool: { name: string }) => tool.name);
const call = async (name: string) => (await rpc(mesh.gateway.url, 'tools/call', { name, arguments: { id: '123' } })).body;

describe('a later service bringing a taken tool name', () => {
  it("lists the newcomer's tool as <service>__<tool> and keeps unique names bare", async () => {
    expect(await names()).toEqual(['getProductById', 'getUserById', 'rival-shop__getProductById', 'getCoupon']);
  });

  it('keeps routing the bare name to the first owner', async () => {
    const body = await call('getProductById');
    expect(body.result.structuredContent).toMatchObject({ id: '123', sku: expect.any(String) });
  });

  it('routes the qualified name to the newcomer', async () => {
    expect((await call('rival-shop__getProductById')).result.structuredContent).toEqual({ from: 'rival-shop', tool: 'getProductById', id: '123' });
  });

  it("answers every tool to its qualified name, also the owner's and the unique ones", async () => {
    expect((await call('shopping-service__getProductById')).result.structuredContent.sku).toEqual(expect.any(String));
    expect((await call('rival-shop__getCoupon')).result.structuredContent.from).toBe('rival-shop');
  });

  it('shows the clash in /services for both services', async () => {
    const { body } = await api(mesh.gateway.url, 'GET', '/services');
    const clash = { kind: 'tool', name: 'getProductById', owner: 'shopping-service', service: 'rival-shop', exposedAs: 'rival-shop__getProductById' };
    const byName = Object.fromEntries(body.services.map((service: { name: string }) => [service.name, service]));
    expect(byName['rival-shop'].clashes).toEqual([clash]);
    expect(byName['shopping-service'].clashes).toEqual([clash]);
    expect(byName['rival-shop'].tools).toEqual([
      { name: 'rival-shop__getProductById', upstreamName: 'getProductById' },
      { name: 'getCoupon', upstreamName: 'getCoupon' },
    ]);
  });

  it('logs the clash', () => {
    expect(mesh.gateway.output()).toMatch(/tool name clash: \\?"getProductById\\?" stays with \\?"shopping-service\\?"/);
  });
});
