/**
 * The Worker the Workers tests run: the gateway itself (src/index.ts), its Conversation class
 * replaced by a subclass whose own turns use the test's scripted fetch and extra bindings
 * instead of the network (conversation-outbound.ts), exactly as a test gives them to
 * createApp and app.fetch for the Worker. Everything else — the queue, the alarm, the turn,
 * the guards, the reply — is the production class's code. vitest.workers.config.ts points
 * `main` here.
 */
import type { Env } from '../../src/env';
import { Conversation as GatewayConversation, type ConversationOutbound } from '../../src/conversations';
import { scriptedConversationOutbound } from './conversation-outbound';

export { default } from '../../src/index';
export * from '../../src/index';

export class Conversation extends GatewayConversation {
  protected override outbound(): ConversationOutbound {
    const production = super.outbound();
    const scripted = scriptedConversationOutbound();
    if (!scripted) return production;
    return { ...production, env: { ...production.env, ...scripted.bindings } as Env, fetch: scripted.fetch };
  }
}
