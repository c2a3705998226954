import type { Tool } from '@modelcontextprotocol/server';

/**
 * Tool definitions for the seed's two services, listed while a service has never been
 * reached (the seed's "fallback tool definitions"). Once a service has been seen, its
 * last catalog takes over, and live definitions replace both when it is up.
 */
function byIdTool(name: string, what: string, example: string): Tool {
  return {
    name,
    description: `Get ${what} information by ID (the service is unavailable right now; calls fail until it is back)`,
    inputSchema: {
      type: 'object',
      properties: { id: { type: 'string', description: `${what[0]?.toUpperCase()}${what.slice(1)} id, a string of digits such as "${example}"` } },
      required: ['id'],
    },
  };
}

export const SEED_FALLBACK_TOOLS: Record<'shopping-service' | 'user-service', Tool[]> = {
  'shopping-service': [byIdTool('getProductById', 'product', '123')],
  'user-service': [byIdTool('getUserById', 'user', '456')],
};
