/**
 * Vitest global setup of the Node tests: checks once what they need from the system (the
 * runner's tests run real bubblewrap, curl inside it and openssl for certificates) and stops
 * the run with one message naming what is missing and the command that installs it, instead
 * of dozens of failures deep inside spawn().
 */
import { spawnSync } from 'node:child_process';

/** What is missing on this machine for the Node tests, empty when nothing is. */
export function missingSystemRequirements(env: NodeJS.ProcessEnv = process.env): string[] {
  const missing: string[] = [];
  if (process.platform !== 'linux') missing.push(`Linux (this is ${process.platform})`);
  if (process.getuid?.() !== 0) missing.push('root (the runner drops each tool call to an unprivileged uid)');
  const found = (program: string, args: string[]) => spawnSync(program, args, { stdio: 'ignore', env }).status === 0;
  if (!found('bwrap', ['--version'])) missing.push('bubblewrap (bwrap)');
  if (!found('curl', ['--version'])) missing.push('curl');
  if (!found('openssl', ['version'])) missing.push('openssl');
  return missing;
}

export default function checkSystemRequirements(): void {
  const missing = missingSystemRequirements();
  if (missing.length > 0) {
    throw new Error(
      `The Node tests need ${missing.join(', ')}. Install them with: sudo npm run setup:system (Debian/Ubuntu; see README "Tests").`,
    );
  }
}
