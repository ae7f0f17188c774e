import type { FC } from 'hono/jsx';

/** Step-by-step: where each platform wants the webhook URL (docs/webhooks.md has the same steps). */
export const ConnectorInstructions: FC<{ platform: string; webhookUrl: string }> = ({ platform, webhookUrl }) => {
  switch (platform) {
    case 'slack':
      return (
        <ol class="steps">
          <li>
            Open <code>api.slack.com/apps</code>, pick your app (or create one from scratch).
          </li>
          <li>
            <strong>Event Subscriptions</strong> → switch on → Request URL: <code>{webhookUrl}</code>. Slack sends a challenge; the gateway
            answers it once the signature checks out.
          </li>
          <li>
            Subscribe to bot events <code>app_mention</code> and <code>message.im</code>, then <strong>Save Changes</strong>.
          </li>
          <li>
            Optional: <strong>Slash Commands</strong> → Create New Command → Request URL: the same <code>{webhookUrl}</code>.
          </li>
          <li>
            <strong>OAuth &amp; Permissions</strong> → scopes <code>chat:write</code>, <code>app_mentions:read</code>,{' '}
            <code>im:history</code> → Install to Workspace; store the <code>xoxb-…</code> token as this connector’s bot token.
          </li>
        </ol>
      );
    case 'discord':
      return (
        <ol class="steps">
          <li>
            Open <code>discord.com/developers/applications</code> → your application → <strong>General Information</strong>.
          </li>
          <li>
            Paste <code>{webhookUrl}</code> into <strong>Interactions Endpoint URL</strong> and save: Discord sends a signed PING, which the
            gateway answers.
          </li>
          <li>Register slash commands for the application; each use arrives here, verified with the public key you entered.</li>
        </ol>
      );
    case 'telegram':
      return (
        <ol class="steps">
          <li>Create a bot with @BotFather and keep its token (entered here, stored encrypted).</li>
          <li>
            Register the webhook with the secret token shown when the connector was created:{' '}
            <code>{`https://api.telegram.org/bot<token>/setWebhook?url=${encodeURIComponent(webhookUrl)}&secret_token=<secret token>`}</code>
          </li>
          <li>Telegram then sends every update to the gateway with that secret in a header; others are refused.</li>
        </ol>
      );
    default:
      return null;
  }
};
