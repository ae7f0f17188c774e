import { z } from '@hono/zod-openapi';
import { createRouter, errorResponses } from '../../http';
import { Email, jsonContent, Password, Token, UserView, WorkspaceName } from '../schemas';
import { PUBLIC, secured } from '../secured';
import { runSetup, setupNeeded } from '../setup';
import type { Clock } from './clock';

const SetupStatus = z.object({ needed: z.boolean() }).openapi('SetupStatus');
const SetupRequest = z.object({ token: Token, workspace: WorkspaceName, email: Email, password: Password }).openapi('SetupRequest');
const SetupResult = z.object({ workspace: z.object({ id: z.string(), name: z.string() }), user: UserView }).openapi('SetupResult');

const getSetup = secured(
  {
    method: 'get',
    path: '/api/v1/setup',
    operationId: 'getSetupStatus',
    summary: 'Whether first-time setup is still needed',
    responses: { 200: { description: 'Setup status', ...jsonContent(SetupStatus) } },
  },
  PUBLIC,
);

const postSetup = secured(
  {
    method: 'post',
    path: '/api/v1/setup',
    operationId: 'runSetup',
    summary: 'First-time setup: create the first workspace and its owner (needs SETUP_TOKEN)',
    request: { body: { required: true, ...jsonContent(SetupRequest) } },
    responses: {
      201: { description: 'Created', ...jsonContent(SetupResult) },
      ...errorResponses(400, 401, 409, 503),
    },
  },
  PUBLIC,
);

/** First-time setup (decisions in ../setup.ts, shared with the dashboard): parse, call, answer. */
export function setupRoutes(now: Clock) {
  const router = createRouter();

  router.openapi(getSetup, async (c) => c.json({ needed: await setupNeeded(c.env.DB) }, 200));

  router.openapi(postSetup, async (c) => c.json(await runSetup(c.env, { ...c.req.valid('json'), clientIp: c.get('clientIp') }, now), 201));

  return router;
}
