/**
 * Tools whose whole behaviour is the result they return: text, image, audio, an embedded
 * resource, mixed content, an error result, and a tool whose input schema uses JSON
 * Schema 2020-12 keywords that a proxy must pass through untouched.
 */
import { fromJsonSchema, type McpServer } from '@modelcontextprotocol/server';
import { PNG_BASE64, WAV_BASE64 } from './media.js';

/** Input schema of `json_schema_2020_12_tool`, exactly as the suite expects to list it. */
export const JSON_SCHEMA_2020_12_INPUT = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  $defs: {
    address: {
      $anchor: 'addressDef',
      type: 'object',
      properties: { street: { type: 'string' }, city: { type: 'string' } },
    },
  },
  properties: {
    name: { type: 'string' },
    address: { $ref: '#/$defs/address' },
    contactMethod: { type: 'string', enum: ['phone', 'email'] },
    phone: { type: 'string' },
    email: { type: 'string' },
  },
  // SEP-2106: composition and conditional keywords a proxy must pass through untouched.
  allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
  if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
  // biome-ignore lint/suspicious/noThenProperty: a JSON Schema keyword, never awaited
  then: { required: ['phone'] },
  else: { required: ['email'] },
  additionalProperties: false,
} as const;

/**
 * Input schema of `test_custom_headers` (SEP-2243): `region` is mirrored into the
 * `Mcp-Param-Region` header, which the SDK checks against the body before the handler runs.
 */
export const CUSTOM_HEADERS_INPUT = {
  type: 'object',
  properties: {
    region: { type: 'string', description: 'Deployment region', 'x-mcp-header': 'Region' },
    query: { type: 'string', description: 'What to look up' },
  },
  required: ['region'],
} as const;

export function registerContentTools(server: McpServer): void {
  server.registerTool('test_simple_text', { description: 'Returns one text block' }, () => ({
    content: [{ type: 'text', text: 'This is a simple text response for testing.' }],
  }));

  server.registerTool('test_image_content', { description: 'Returns a 1x1 PNG image' }, () => ({
    content: [{ type: 'image', data: PNG_BASE64, mimeType: 'image/png' }],
  }));

  server.registerTool('test_audio_content', { description: 'Returns a short WAV clip' }, () => ({
    content: [{ type: 'audio', data: WAV_BASE64, mimeType: 'audio/wav' }],
  }));

  server.registerTool('test_embedded_resource', { description: 'Returns an embedded text resource' }, () => ({
    content: [
      {
        type: 'resource',
        resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' },
      },
    ],
  }));

  server.registerTool('test_multiple_content_types', { description: 'Returns text, image and resource blocks' }, () => ({
    content: [
      { type: 'text', text: 'Multiple content types test:' },
      { type: 'image', data: PNG_BASE64, mimeType: 'image/png' },
      {
        type: 'resource',
        resource: {
          uri: 'test://mixed-content-resource',
          mimeType: 'application/json',
          text: JSON.stringify({ test: 'data', value: 123 }),
        },
      },
    ],
  }));

  server.registerTool('test_error_handling', { description: 'Always returns an error result' }, () => ({
    isError: true,
    content: [{ type: 'text', text: 'This tool intentionally returns an error for testing' }],
  }));

  server.registerTool(
    'json_schema_2020_12_tool',
    { description: 'Tool with JSON Schema 2020-12 features', inputSchema: fromJsonSchema(JSON_SCHEMA_2020_12_INPUT) },
    (args) => ({ content: [{ type: 'text', text: `Received: ${JSON.stringify(args)}` }] }),
  );

  server.registerTool(
    'test_custom_headers',
    { description: 'Echoes a region the client also sends as the Mcp-Param-Region header', inputSchema: fromJsonSchema(CUSTOM_HEADERS_INPUT) },
    (args) => ({ content: [{ type: 'text', text: `Region: ${String((args as { region?: unknown }).region)}` }] }),
  );
}
