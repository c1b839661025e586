// How every adloop process reaches Temporal: the address, and TLS (mutual, with a client
// certificate) when configured. One place, so the workers, the CLI and `npm start` cannot differ.
import fs from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import type { Config } from './config.ts';

/** The settings a Temporal connection reads. */
export const TEMPORAL_CONNECTION_SETTINGS = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_NAME',
] as const;

export type TemporalConnectionSettings = Pick<
  Config,
  (typeof TEMPORAL_CONNECTION_SETTINGS)[number]
>;

/** Options for `Connection.connect` and `NativeConnection.connect`. */
export function temporalConnectionOptions(c: TemporalConnectionSettings): {
  address: string;
  tls?: TLSConfig;
} {
  const cert = c.TEMPORAL_TLS_CLIENT_CERT_PATH;
  const key = c.TEMPORAL_TLS_CLIENT_KEY_PATH;
  if (Boolean(cert) !== Boolean(key))
    throw new Error(
      'TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together: a client ' +
        `certificate needs its key (set: ${cert ? 'the certificate' : 'the key'} only)`,
    );
  const wanted =
    c.TEMPORAL_TLS === 'true' ||
    Boolean(cert || c.TEMPORAL_TLS_SERVER_CA_CERT_PATH || c.TEMPORAL_TLS_SERVER_NAME);
  if (c.TEMPORAL_TLS === 'false' && wanted)
    throw new Error('TEMPORAL_TLS is false, yet TEMPORAL_TLS_* certificates are set: choose one');
  if (!wanted) return { address: c.TEMPORAL_ADDRESS };
  const read = (setting: string, file: string) => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new Error(`${setting}: cannot read ${file}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  };
  return {
    address: c.TEMPORAL_ADDRESS,
    tls: {
      ...(c.TEMPORAL_TLS_SERVER_NAME && { serverNameOverride: c.TEMPORAL_TLS_SERVER_NAME }),
      ...(c.TEMPORAL_TLS_SERVER_CA_CERT_PATH && {
        serverRootCACertificate: read(
          'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
          c.TEMPORAL_TLS_SERVER_CA_CERT_PATH,
        ),
      }),
      ...(cert &&
        key && {
          clientCertPair: {
            crt: read('TEMPORAL_TLS_CLIENT_CERT_PATH', cert),
            key: read('TEMPORAL_TLS_CLIENT_KEY_PATH', key),
          },
        }),
    },
  };
}
