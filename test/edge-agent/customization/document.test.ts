/** The agent uses a customization document only when it is the one its task names (size, sha256, shape). */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchDocument } from '../../../edge-agent/customization/document';

const docs = new Map<string, string>();
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const body = docs.get(req.url ?? '');
    res.writeHead(body === undefined ? 404 : 200).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function serve(name: string, text: string, items = 1) {
  docs.set(`/${name}`, text);
  const bytes = Buffer.from(text);
  return {
    key: `customizations/cl-1/${name}`,
    url: `${base}/${name}`,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    sizeBytes: bytes.length,
    items,
  };
}

const good = JSON.stringify({
  items: [{ type: 'file', path: '/etc/hostname', content: '${hostname}\n' }],
  variables: { hostname: 'h' },
});

describe('fetchDocument', () => {
  it('returns the items and variables of the document the task names', async () => {
    const doc = await fetchDocument(serve('good.json', good));
    expect(doc).toEqual(JSON.parse(good));
  });

  it('refuses a document whose sha256 is not the one the task gives, naming both', async () => {
    const source = { ...serve('altered.json', good), sha256: 'a'.repeat(64) };
    await expect(fetchDocument(source)).rejects.toMatchObject({
      code: 'customization_unreadable',
      message: expect.stringContaining(`the task says ${'a'.repeat(64)}`),
    });
  });

  it('refuses a document of another size, or another count of items', async () => {
    await expect(fetchDocument({ ...serve('short.json', good), sizeBytes: 10 })).rejects.toMatchObject({
      message: expect.stringContaining('the task says 10'),
    });
    await expect(fetchDocument(serve('count.json', good, 2))).rejects.toMatchObject({
      message: expect.stringContaining('it has 1 items, the task says 2'),
    });
  });

  it('refuses a document that is not one, and a GET that is answered with an error', async () => {
    await expect(
      fetchDocument(serve('shape.json', '{"items":[{"type":"exec"}],"variables":{}}')),
    ).rejects.toMatchObject({
      message: expect.stringContaining('not a customization document'),
    });
    const gone = { ...serve('gone.json', good), url: `${base}/missing.json` };
    await expect(fetchDocument(gone)).rejects.toMatchObject({ message: expect.stringContaining('HTTP 404') });
  });
});
