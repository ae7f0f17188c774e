import { verifyKey } from 'discord-interactions';
import { expect, it } from 'vitest';
import { hexToBytes, utf8 } from '../../src/lib';
import { nobleEd25519, verifyDiscordSignature, verifySlackSignature, webCryptoEd25519 } from '../../src/webhooks';
import rfc8032 from '../../test/fixtures/webhooks/ed25519-rfc8032.json';
import slack from '../../test/fixtures/webhooks/slack-signing.json';
import { measure, report } from './harness';

const discord = rfc8032.discordStyle;
const DISCORD_NOW = Number(discord.timestamp) * 1000;
const discordBody = utf8(discord.body);

it('webhooks: Discord Ed25519 verifications per second against the discord-interactions peer', async () => {
  const input = {
    publicKeyHex: discord.publicKey,
    signatureHex: discord.signature,
    timestamp: discord.timestamp,
    rawBody: discordBody,
    now: DISCORD_NOW,
  };
  // Every measured call must verify, or the figure would be the cost of a fast rejection.
  expect(await verifyKey(discordBody, discord.signature, discord.timestamp, discord.publicKey)).toBe(true);
  expect(await verifyDiscordSignature(input, webCryptoEd25519)).toEqual({ ok: true });
  expect(await verifyDiscordSignature(input, nobleEd25519)).toEqual({ ok: true });

  const importedKey = await crypto.subtle.importKey('raw', hexToBytes(discord.publicKey) as Uint8Array, { name: 'Ed25519' }, false, [
    'verify',
  ]);
  const peer = await measure('discord-interactions verifyKey (hex key)', () =>
    verifyKey(discordBody, discord.signature, discord.timestamp, discord.publicKey),
  );
  const peerImported = await measure('discord-interactions verifyKey (CryptoKey)', () =>
    verifyKey(discordBody, discord.signature, discord.timestamp, importedKey),
  );
  const webCrypto = await measure('verifyDiscordSignature, WebCrypto path', () => verifyDiscordSignature(input, webCryptoEd25519));
  const noble = await measure('verifyDiscordSignature, @noble/ed25519 path', () => verifyDiscordSignature(input, nobleEd25519), {
    durationMs: 3000,
    warmup: 5,
  });
  report('webhooks-discord-verify', peer, [peerImported, webCrypto, noble]);
});

it('webhooks: Slack v0 verifications per second against a bare HMAC-SHA256', async () => {
  const now = Number(slack.timestamp) * 1000;
  const body = utf8(slack.rawBody);
  const input = {
    signingSecret: slack.signingSecret,
    signatureHeader: slack.signature,
    timestampHeader: slack.timestamp,
    rawBody: body,
    now,
  };
  expect(await verifySlackSignature(input)).toEqual({ ok: true });

  const bare = await measure('bare HMAC-SHA256 (importKey + sign)', async () => {
    const key = await crypto.subtle.importKey('raw', utf8(slack.signingSecret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    return crypto.subtle.sign('HMAC', key, utf8(slack.basestring));
  });
  const ours = await measure('verifySlackSignature', () => verifySlackSignature(input));
  report('webhooks-slack-verify', bare, [ours]);
});
