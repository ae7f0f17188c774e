export const HOST: string;
export function freePort(): Promise<number>;
export interface LocalResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}
export interface LocalGateway {
  port: number;
  setupToken: string;
  send(method: string, path: string, headers?: Record<string, string>, body?: string): Promise<LocalResponse>;
  stop(): Promise<void>;
  /** wrangler dev's output, line by line (the last 20,000 lines). */
  lines: string[];
  pid: number;
}
export function startLocalGateway(options?: {
  config?: string;
  vars?: Record<string, string>;
  devVars?: Record<string, string>;
  maxSockets?: number;
  readyPath?: string;
  startupTimeoutMs?: number;
  requestTimeoutMs?: number;
  migrate?: boolean;
}): Promise<LocalGateway>;
