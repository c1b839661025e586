// Whether an error means the database could not be reached (down, restarting, the connection cut),
// as opposed to a query it refused. The first passes once the server is back; the second never.

/** Node's socket errors when the server is not there or drops the connection. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND']);

/**
 * PostgreSQL SQLSTATEs of a server going away or not yet taking connections: class 08
 * (connection exception) and 57P01-57P03 (admin_shutdown, crash_shutdown, cannot_connect_now).
 * Source: https://www.postgresql.org/docs/15/errcodes-appendix.html
 */
const UNAVAILABLE_STATES = /^(08\d{3}|57P0[123])$/;

export function databaseUnavailable(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 5) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_STATES.test(code)))
    return true;
  // node-postgres says so in words when the socket closes under a query or a pooled client.
  if (
    /Connection terminated|connection to server .* failed|terminating connection/i.test(err.message)
  )
    return true;
  const nested = (err as { errors?: unknown }).errors; // AggregateError (every address refused)
  if (Array.isArray(nested) && nested.some((e) => databaseUnavailable(e, depth + 1))) return true;
  return databaseUnavailable(err.cause, depth + 1);
}
