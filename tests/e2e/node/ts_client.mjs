// PromptDB driven by the official TypeScript MCP SDK (@modelcontextprotocol/sdk).
//   node ts_client.mjs http URL API_KEY
//   node ts_client.mjs stdio BIN DATA_DIR
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import assert from 'node:assert/strict';

const [mode, a, b] = process.argv.slice(2);
const transport = mode === 'http'
  ? new StreamableHTTPClientTransport(new URL(a), { requestInit: { headers: { Authorization: `Bearer ${b}` } } })
  : new StdioClientTransport({ command: a, args: ['--data-dir', b, 'stdio'], stderr: 'ignore' });
const client = new Client({ name: 'promptdb-e2e-ts', version: '1.0.0' });
await client.connect(transport);
assert.equal(client.getServerVersion().name, 'promptdb');

const { tools } = await client.listTools();
assert.ok(tools.length >= 13, `tools: ${tools.map(t => t.name)}`);
const slug = `ts-${mode}`;
let r = await client.callTool({ name: 'save_prompts', arguments: { prompts: [{ slug, name: 'TS prompt', content: 'Translate {{text}} to {{lang}}' }] } });
assert.equal(r.isError, false, JSON.stringify(r));
assert.equal(r.structuredContent.saved[0].slug, slug);
r = await client.callTool({ name: 'get_prompt', arguments: { slug, variables: { text: 'hello', lang: 'French' } } });
assert.equal(r.structuredContent.rendered, 'Translate hello to French');
r = await client.callTool({ name: 'update_prompt', arguments: { slug, tags: ['Bad Tag'] } });
assert.equal(r.isError, true);
assert.match(r.content[0].text, /tags\[0\]/);
const { prompts } = await client.listPrompts();
const p = prompts.find(x => x.name === slug);
assert.deepEqual(p.arguments.map(x => x.name).sort(), ['lang', 'text']);
const got = await client.getPrompt({ name: slug, arguments: { text: 'cat', lang: 'German' } });
assert.equal(got.messages[0].content.text, 'Translate cat to German');
const res = await client.readResource({ uri: `prompt://${slug}` });
assert.equal(res.contents[0].text, 'Translate {{text}} to {{lang}}');
await assert.rejects(client.readResource({ uri: 'prompt://missing' }));
r = await client.callTool({ name: 'delete_prompt', arguments: { slug } });
assert.equal(r.isError, false);
await client.close();
console.log(`ok: ${mode}`);
