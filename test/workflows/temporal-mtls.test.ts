// Mutual TLS to Temporal: a TLS front (as an ingress or Temporal's own frontend with
// requireClientAuth) that demands a client certificate signed by its CA, before a real Temporal
// dev server. adloop's connection options (core/temporal-connection.ts) get through with the
// configured certificate and are refused without it or with one from another CA.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  temporalConnectionOptions,
  type TemporalConnectionSettings,
} from '../../core/temporal-connection.ts';
import { testEnvironment } from '../helpers/temporal.ts';

/** Certificates as operators make them for the compose stack's mTLS (ops/temporal-certs.sh). */
function certificates(dir: string, frontendNames: string) {
  execFileSync('bash', [path.resolve('ops/temporal-certs.sh'), dir, frontendNames], {
    stdio: 'pipe',
  });
  return (name: string) => path.join(dir, name);
}

describe('mutual TLS to Temporal', () => {
  let env: TestWorkflowEnvironment;
  let front: tls.Server;
  let dir: string;
  let address: string;
  let files: (name: string) => string;
  let strangers: (name: string) => string;

  before(async () => {
    env = await testEnvironment();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-mtls-'));
    files = certificates(path.join(dir, 'ours'), 'temporal.internal');
    strangers = certificates(path.join(dir, 'theirs'), 'temporal.internal');
    const [host, port] = env.address.split(':') as [string, string];
    front = tls.createServer(
      {
        key: fs.readFileSync(files('frontend.key')),
        cert: fs.readFileSync(files('frontend.crt')),
        ca: fs.readFileSync(files('ca.crt')),
        requestCert: true,
        rejectUnauthorized: true,
        ALPNProtocols: ['h2'],
      },
      (socket) => {
        const upstream = net.connect(Number(port), host);
        socket.pipe(upstream).pipe(socket);
        const close = () => {
          socket.destroy();
          upstream.destroy();
        };
        socket.on('error', close);
        upstream.on('error', close);
      },
    );
    front.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(front.address() as net.AddressInfo).port}`;
  });

  after(async () => {
    await new Promise<void>((resolve) => front.close(() => resolve()));
    await env.teardown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Settings with our client certificate, another CA's, or none. */
  const settings = (client: 'ours' | 'theirs' | null): TemporalConnectionSettings => {
    const at = client === 'theirs' ? strangers : files;
    return {
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: files('ca.crt'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
      ...(client && {
        TEMPORAL_TLS_CLIENT_CERT_PATH: at('client.crt'),
        TEMPORAL_TLS_CLIENT_KEY_PATH: at('client.key'),
      }),
    };
  };

  it('reaches Temporal with the configured client certificate, as a client and as a worker', async () => {
    const connection = await Connection.connect({
      ...temporalConnectionOptions(settings('ours')),
      connectTimeout: 10_000,
    });
    try {
      const info = await connection.workflowService.getSystemInfo({});
      assert.ok(info.serverVersion, 'the server answered through the TLS front');
    } finally {
      await connection.close();
    }
    const native = await NativeConnection.connect(temporalConnectionOptions(settings('ours')));
    await native.close();
  });

  it('is refused without a client certificate, or with one another CA signed', async () => {
    for (const client of [null, 'theirs'] as const) {
      await assert.rejects(
        Connection.connect({
          ...temporalConnectionOptions(settings(client)),
          connectTimeout: 3_000,
        }).then(async (c) => {
          // A lazy channel can open before the handshake fails: the first call must not pass.
          try {
            await c.workflowService.getSystemInfo({});
          } finally {
            await c.close();
          }
        }),
        `client ${client ?? '(none)'}`,
      );
    }
  });

  it('says which setting is wrong', () => {
    assert.throws(
      () =>
        temporalConnectionOptions({
          TEMPORAL_ADDRESS: address,
          TEMPORAL_TLS_CLIENT_CERT_PATH: files('client.crt'),
        }),
      /TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together/,
    );
    assert.throws(
      () =>
        temporalConnectionOptions({
          TEMPORAL_ADDRESS: address,
          TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'missing.crt'),
        }),
      /TEMPORAL_TLS_SERVER_CA_CERT_PATH: cannot read .*missing\.crt/,
    );
    assert.deepEqual(temporalConnectionOptions({ TEMPORAL_ADDRESS: address }), { address });
    assert.deepEqual(
      temporalConnectionOptions({ TEMPORAL_ADDRESS: address, TEMPORAL_TLS: 'true' }),
      {
        address,
        tls: {},
      },
    );
  });
});
