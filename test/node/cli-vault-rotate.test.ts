import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ROTATE_EXIT, vaultRotate } from '../../cli/vault-rotate.ts';

interface Seen {
  method?: string;
  url?: string;
  authorization?: string;
  body: string;
}

let server: Server | undefined;
afterEach(() => server?.close());

/** A loopback stand-in for the gateway's rotate endpoint that answers the given reports in turn. */
async function gateway(answers: Array<{ status: number; body: unknown }>): Promise<{ origin: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer(async (req: IncomingMessage, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization, body });
    const answer = answers[Math.min(seen.length - 1, answers.length - 1)] ?? { status: 500, body: {} };
    res.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function io(env: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { fetch, env, stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) }, out, err };
}

const report = (remaining: number, resealed = 5, unreadable = 0) => ({
  status: 200,
  body: { resealed, remaining, unreadable, activeKeyId: 'k2' },
});

describe('portcullis vault rotate', () => {
  it('calls the rotate endpoint with the key from the environment until nothing remains', async () => {
    const gw = await gateway([report(10), report(5), report(0)]);
    const { io: cliIo, out } = io({ PORTCULLIS_API_KEY: 'pcl_testkey' });
    expect(await vaultRotate(['--url', gw.origin, '--batch-size', '5'], cliIo)).toBe(ROTATE_EXIT.OK);
    expect(gw.seen).toHaveLength(3);
    expect(gw.seen[0]).toEqual({
      method: 'POST',
      url: '/api/v1/admin/vault/rotate',
      authorization: 'Bearer pcl_testkey',
      body: '{"batchSize":5}',
    });
    expect(out.map((line) => JSON.parse(line).remaining)).toEqual([10, 5, 0]);
  });

  it('stops with exit 6 when only unreadable envelopes are left (old keys must stay)', async () => {
    const gw = await gateway([report(2, 0, 2)]);
    const { io: cliIo } = io({ PORTCULLIS_API_KEY: 'pcl_testkey' });
    expect(await vaultRotate(['--url', gw.origin], cliIo)).toBe(ROTATE_EXIT.UNREADABLE);
    expect(gw.seen).toHaveLength(1);
  });

  it('reports a refusal by the gateway with its error code and exit 5', async () => {
    const gw = await gateway([{ status: 403, body: { error: { code: 'FORBIDDEN', message: 'x', requestId: 'r' } } }]);
    const { io: cliIo, err } = io({ PORTCULLIS_API_KEY: 'pcl_testkey' });
    expect(await vaultRotate(['--url', gw.origin], cliIo)).toBe(ROTATE_EXIT.GATEWAY);
    expect(err.join('')).toContain('403 FORBIDDEN');
  });

  it.each([
    ['no key in the environment', ['--url', 'https://gw.example'], {}],
    ['plain http to a remote host', ['--url', 'http://gw.example'], { PORTCULLIS_API_KEY: 'k' }],
    ['a batch size out of range', ['--url', 'https://gw.example', '--batch-size', '501'], { PORTCULLIS_API_KEY: 'k' }],
  ])('refuses %s with exit 2 and makes no request', async (_label, args, env) => {
    const { io: cliIo } = io(env as Record<string, string>);
    let called = false;
    const result = await vaultRotate(args as string[], {
      ...cliIo,
      fetch: (async () => {
        called = true;
        return new Response();
      }) as typeof fetch,
    });
    expect(result).toBe(ROTATE_EXIT.USAGE);
    expect(called).toBe(false);
  });
});
