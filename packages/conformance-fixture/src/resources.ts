/**
 * Resources the suite reads and subscribes to: a static text and a static binary
 * resource, a template that substitutes its `{id}`, and a watched resource that
 * reports an update to each subscriber.
 */
import { type McpServer, ResourceTemplate } from '@modelcontextprotocol/server';
import { PNG_BASE64 } from './media.js';

export const WATCHED_URI = 'test://watched-resource';

const TEMPLATE_IDS = ['123', '456', '789'];

export function registerResources(server: McpServer): void {
  server.registerResource(
    'static-text',
    'test://static-text',
    { title: 'Static text', description: 'A static text resource', mimeType: 'text/plain' },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }] }),
  );

  server.registerResource(
    'static-binary',
    'test://static-binary',
    { title: 'Static binary', description: 'A static binary resource (1x1 PNG)', mimeType: 'image/png' },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'image/png', blob: PNG_BASE64 }] }),
  );

  server.registerResource(
    'watched-resource',
    WATCHED_URI,
    { title: 'Watched resource', description: 'A resource clients can subscribe to', mimeType: 'text/plain' },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: `Watched resource, read at ${new Date().toISOString()}` }] }),
  );

  const template = new ResourceTemplate('test://template/{id}/data', {
    list: undefined,
    complete: { id: (value) => TEMPLATE_IDS.filter((id) => id.startsWith(value)) },
  });
  server.registerResource(
    'template-data',
    template,
    { title: 'Template data', description: 'Data for one id, substituted into the URI', mimeType: 'application/json' },
    (uri, variables) => {
      const id = String(variables['id']);
      return {
        contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }) }],
      };
    },
  );
}

/**
 * `resources/subscribe` and `resources/unsubscribe` for the 2025-era session this server
 * serves. A new subscriber hears one `notifications/resources/updated` shortly after
 * subscribing, so relays of update notifications can be tested end to end.
 */
export function registerSubscriptions(server: McpServer, updateDelayMs = 100): void {
  const subscribed = new Set<string>();
  server.server.registerCapabilities({ resources: { subscribe: true, listChanged: true } });
  server.server.setRequestHandler('resources/subscribe', (request) => {
    const { uri } = request.params;
    subscribed.add(uri);
    setTimeout(() => {
      if (!subscribed.has(uri) || !server.isConnected()) return;
      server.server.sendResourceUpdated({ uri }).catch(() => undefined);
    }, updateDelayMs).unref();
    return {};
  });
  server.server.setRequestHandler('resources/unsubscribe', (request) => {
    subscribed.delete(request.params.uri);
    return {};
  });
}
