import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { changeUserRole, createWorkspace, inviteUser, issuePasswordReset, listUsers, type Principal } from '../../src/auth';
import { countRows, domainActor, setupInstance } from './identity-helpers';

/** Domain functions are called directly: no fetch, no middleware, the actor built by hand. */
const actor = domainActor;

let owner: Principal;
const clock = () => Date.now();

beforeAll(async () => {
  const { workspaceId, userId } = await setupInstance();
  owner = actor(workspaceId, userId, { isInstanceOwner: true });
});

describe('user domain functions (src/auth/users.ts), without HTTP', () => {
  it('an owner of another workspace can neither see, promote nor reset this workspace’s member: not-found, nothing written', async () => {
    const invited = await inviteUser(env, owner, { email: 'member@example.com', role: 'viewer' }, clock);
    if (!invited.ok) throw new Error('invite failed');
    const memberId = invited.value.user.id;
    const foreignOwner = actor('ws_other', 'usr_other');
    const before = { audit: await countRows('audit_events'), tokens: await countRows('one_time_tokens') };

    expect(await changeUserRole(env, foreignOwner, { id: memberId, role: 'admin' }, clock)).toEqual({
      ok: false,
      problem: { kind: 'not-found' },
    });
    expect(await issuePasswordReset(env, foreignOwner, memberId, clock)).toEqual({ ok: false, problem: { kind: 'not-found' } });
    expect(await listUsers(env, foreignOwner)).toEqual({ ok: true, value: [] });

    const role = await env.DB.prepare('SELECT role FROM users WHERE id = ?').bind(memberId).first<{ role: string }>();
    expect(role).toEqual({ role: 'viewer' });
    expect({ audit: await countRows('audit_events'), tokens: await countRows('one_time_tokens') }).toEqual(before);
  });

  it('only the instance owner creates workspaces, and nobody grants above their own role; no row either way', async () => {
    const before = { workspaces: await countRows('workspaces'), users: await countRows('users') };
    const admin = actor(owner.workspaceId, owner.userId, { role: 'admin' });
    expect(await createWorkspace(env, admin, { name: 'Side', ownerEmail: 'side@example.com' }, clock)).toEqual({
      ok: false,
      problem: { kind: 'forbidden' },
    });
    expect(await inviteUser(env, admin, { email: 'boss@example.com', role: 'owner' }, clock)).toEqual({
      ok: false,
      problem: { kind: 'forbidden', message: 'You cannot grant a role above your own.' },
    });
    expect({ workspaces: await countRows('workspaces'), users: await countRows('users') }).toEqual(before);
  });
});
