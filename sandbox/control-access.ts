// Who may use the sandbox's control endpoints (/__sandbox/ on the Meta port): they move the clock,
// inject faults, change the ad review and serve the whole catalog, so off loopback they need a
// token. On loopback (the default, `npm start`, the tests) anyone on the machine could also read
// the world file, so no token is needed there unless one is configured.
import type { IncomingMessage } from 'node:http';
import { bearerToken, isLoopbackHost, tokenMatches } from '../core/access.ts';

/** Whether the control endpoints need a token when the sandbox binds `host`. */
export function controlTokenRequired(host: string): boolean {
  return !isLoopbackHost(host);
}

/** Why the sandbox refuses to start on `host` without a control token. */
export function missingControlTokenMessage(host: string): string {
  return (
    `the sandbox would listen on ${host}, beyond loopback, and its control endpoints ` +
    `(/__sandbox/: clock, faults, review, catalog, status) need a token there: set ` +
    `SANDBOX_CONTROL_TOKEN (at least 32 characters, e.g. openssl rand -hex 32), or bind 127.0.0.1`
  );
}

/** The body of the 401 a control request without the right token gets. */
export const CONTROL_UNAUTHORIZED = {
  error:
    'the sandbox control endpoints need the control token: send Authorization: Bearer <SANDBOX_CONTROL_TOKEN>',
};

/** Whether `req` carries `Authorization: Bearer <token>` (compared in constant time). */
export function hasControlToken(req: IncomingMessage, token: string): boolean {
  return tokenMatches(bearerToken(req.headers.authorization) ?? '', [token]);
}

/** Request headers that authorize a control request to a sandbox with `token` (none: {}). */
export function controlHeaders(token: string | null): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}
