/** run.mcp tools: an MCP server (official SDK) started in the sandbox and called with tools/call. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_UIDS, bwrapPrefix, makeScratch, processesWith, startRunner, waitFor, type TestRunner } from './helpers.ts';

const here = dirname(fileURLToPath(import.meta.url));
const fixture = join(here, 'fixtures', 'mcp-server.mjs');
const nodeModules = resolve(here, '../../../node_modules');
const SANDBOX_UID = SANDBOX_UIDS.mcp;
const scratch = makeScratch();
let runner: TestRunner;

function mcpCall(workspace: string, tool: string, args: Record<string, unknown>, timeoutMs = 15_000) {
  return runner.post({
    tool: 'files',
    mcp: { command: ['node', fixture], tool, arguments: args },
    env: {},
    timeoutMs,
    outputLimitBytes: 65_536,
    sandbox: {
      bwrapArgv: bwrapPrefix({
        workspace,
        workspaceMode: 'rw',
        roBinds: [
          [join(here, 'fixtures'), join(here, 'fixtures')],
          [nodeModules, nodeModules],
        ],
      }),
    },
  });
}

beforeAll(async () => {
  runner = await startRunner({ workDir: scratch.workDir, workspaceRoot: scratch.workspaceRoot, uid: SANDBOX_UID });
});

afterAll(async () => {
  await runner.close();
  scratch.cleanup();
});

describe('MCP tools over stdio in the sandbox', { timeout: 30_000 }, () => {
  it('calls a tool with tools/call and returns its result', async () => {
    const ws = join(scratch.workspaceRoot, 'agent-mcp');
    mkdirSync(ws, { recursive: true });
    writeFileSync(join(ws, 'notes.md'), '# hello from the workspace\n');
    const { status, json } = await mcpCall(ws, 'read_file', { path: 'notes.md' });
    expect(status).toBe(200);
    expect(json.stopReason).toBe('exit');
    expect(json.exitCode).toBe(0);
    expect(JSON.parse(json.stdout ?? '')).toEqual({ content: [{ type: 'text', text: '# hello from the workspace\n' }] });
  });

  it('runs the server as the unprivileged sandbox uid in /workspace', async () => {
    const { json } = await mcpCall(join(scratch.workspaceRoot, 'agent-mcp'), 'whoami', {});
    const text = (JSON.parse(json.stdout ?? '') as { content: Array<{ text: string }> }).content[0]?.text ?? '';
    expect(JSON.parse(text)).toEqual({ uid: SANDBOX_UID, cwd: '/workspace' });
  });

  it('a tool error is a failed call (exit code 1), and the host file stays out of reach', async () => {
    const { json } = await mcpCall(join(scratch.workspaceRoot, 'agent-mcp'), 'read_file', { path: '/etc/shadow' });
    expect(json.exitCode).toBe(1);
    expect(json.stdout).toContain('cannot read /etc/shadow: ENOENT');
  });

  it('an unknown tool fails without crashing the runner', async () => {
    const { status, json } = await mcpCall(join(scratch.workspaceRoot, 'agent-mcp'), 'no_such_tool', {});
    expect(status).toBe(200);
    expect(json.exitCode).toBe(1);
  });

  it('a server that never answers is stopped at the timeout, with its whole group', async () => {
    const { json } = await mcpCall(join(scratch.workspaceRoot, 'agent-mcp'), 'hang', {}, 2_000);
    expect(json.stopReason).toBe('timeout');
    expect(await waitFor(() => processesWith(fixture).length === 0)).toBe(true);
  });
});
