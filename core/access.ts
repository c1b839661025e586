// Who may reach a local server: the checks adloop's own servers share (the codec server, the
// report server, the sandbox's control endpoints). One place, so they cannot drift apart.
import { createHash, timingSafeEqual } from 'node:crypto';
import net from 'node:net';

const loopback = new net.BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/**
 * True when `host` (an interface to bind) is loopback only: 127.0.0.0/8, ::1 (IPv4-mapped forms
 * included) or `localhost`. Wildcards (0.0.0.0, ::), other addresses and other names are not.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase();
  if (h === 'localhost') return true;
  const family = net.isIP(h);
  return family !== 0 && loopback.check(h, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The Host headers a server on loopback `port` answers to: its loopback names with the port (and
 * without one on port 80, as browsers send it). A page on another name that resolves to 127.0.0.1
 * (DNS rebinding: `evil.example:PORT`) is refused, so it cannot read through the server.
 */
export function loopbackHostHeaders(port: number): Set<string> {
  const names = ['127.0.0.1', 'localhost', '[::1]'];
  return new Set([...names.map((n) => `${n}:${port}`), ...(port === 80 ? names : [])]);
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** The token of an `Authorization: Bearer <token>` header; null for anything else. */
export function bearerToken(authorization: string | undefined): string | null {
  return /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '')?.[1] ?? null;
}

/**
 * Whether `presented` is one of `tokens`. Both sides are hashed first, so the buffers
 * timingSafeEqual compares have equal lengths and the time taken says nothing about the tokens,
 * not even their lengths; every token is compared, whichever matches.
 */
export function tokenMatches(presented: string, tokens: readonly string[]): boolean {
  const given = digest(presented);
  let found = false;
  for (const t of tokens) found = timingSafeEqual(given, digest(t)) || found;
  return found;
}
