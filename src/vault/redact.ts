import { redactTokenShapes } from '../lib';
import { ok, type VaultResult } from './problems';
import { secretRedactor } from '../protocol';
import { openWorkspaceSecrets, type VaultDeps } from './store';

export {
  MIN_BASE64_FORM_CHARS,
  MIN_REDACTABLE_CHARS,
  redactSecrets,
  secretByteScrubber,
  secretForms,
  secretRedactor,
  type ByteScrubber,
} from '../protocol';

export interface WorkspaceRedactor {
  /**
   * `text` with the workspace's secrets and the common token shapes (src/lib) removed.
   * A problem (keyring unusable) means nothing could be checked: callers must then drop
   * the text, not log it unredacted.
   */
  redact(text: string): Promise<VaultResult<string>>;
}

/**
 * Loads and opens every secret of the workspace on first use, then reuses them: make one
 * per request (secrets change between requests; a redactor never refreshes). Rows that
 * cannot be opened (sealed under a removed key) cannot be injected anywhere either, so they
 * are left out rather than failing every redaction.
 */
export function workspaceRedactor(deps: VaultDeps, workspaceId: string): WorkspaceRedactor {
  let compiled: Promise<VaultResult<(text: string) => string>> | undefined;
  return {
    async redact(text) {
      compiled ??= openWorkspaceSecrets(deps, workspaceId).then((opened) => (opened.ok ? ok(secretRedactor(opened.value.values)) : opened));
      const redactor = await compiled;
      if (!redactor.ok) return redactor;
      return ok(redactTokenShapes(redactor.value(text)));
    },
  };
}
