// Builds the loop worker: the workflows plus every activity, wired to real dependencies.
import { useXgboostLibrary } from '../ml/xgboost.ts';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { createActivities, type ActivityDeps } from '../activities/index.ts';
import {
  googleLoginCustomerOf,
  loadAccounts,
  metaPageOf,
  type AccountsFile,
} from '../core/accounts.ts';
import type { Config } from '../core/config.ts';
import { openDatabase, type DatabaseHandle } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { createDeliveryWriter } from '../db/delivery-writer.ts';
import { loadFxTable } from '../core/money.ts';
import { createMetaAds } from '../platforms/meta/meta-ads.ts';
import { createMmp, type Mmp } from '../platforms/mmp/index.ts';
import { createTikTokAds } from '../platforms/tiktok/tiktok-ads.ts';
import { createGoogleAds } from '../platforms/google/google-ads.ts';
import { createYouTubeUploads } from '../platforms/google/youtube.ts';
import { loadRenderer } from '../render/renderer.ts';
import { dataConverterOptions, payloadCodecFrom } from '../core/payload-codec.ts';
import { schedulePause } from '../ops/schedules.ts';
import { temporalConnectionOptions } from '../core/temporal-connection.ts';

/** The configured MMP client, or null with MMP_PROVIDER=none (loadConfig checked the secrets). */
export function mmpFromConfig(config: Config): Mmp | null {
  switch (config.MMP_PROVIDER) {
    case 'adjust':
      return createMmp({
        provider: 'adjust',
        baseUrl: config.ADJUST_BASE_URL,
        apiToken: config.ADJUST_API_TOKEN!,
        appToken: config.ADJUST_APP_TOKEN!,
        timeoutMs: config.MMP_REQUEST_TIMEOUT_MS,
      });
    case 'branch':
      return createMmp({
        provider: 'branch',
        baseUrl: config.BRANCH_BASE_URL,
        branchKey: config.BRANCH_KEY!,
        branchSecret: config.BRANCH_SECRET!,
        timeoutMs: config.MMP_REQUEST_TIMEOUT_MS,
      });
    case 'none':
      return null;
  }
}

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** `make` called once per id: the same client for every use of one account. */
export function perAccount<T>(make: (id: string) => T): (id: string) => T {
  const made = new Map<string, T>();
  return (id) => {
    let client = made.get(id);
    if (!client) made.set(id, (client = make(id)));
    return client;
  };
}

/**
 * The ad platforms' clients, as configured: one per Meta ad account and per TikTok advertiser of
 * the accounts file, each made once (it keeps its own pacing and cached account facts).
 */
export function platformClients(
  config: Config,
  accounts: AccountsFile,
): Pick<ActivityDeps, 'meta' | 'tiktok' | 'google' | 'youtube'> {
  const google = googleSettings(config);
  return {
    meta: perAccount((adAccountId) =>
      createMetaAds({
        graphUrl: config.META_GRAPH_URL,
        accessToken: config.META_ACCESS_TOKEN,
        adAccountId,
        pageId: metaPageOf(accounts, adAccountId),
        // A request that timed out may have been carried out; deploy finds such objects by name.
        requestTimeoutMs: config.META_REQUEST_TIMEOUT_MS,
      }),
    ),
    tiktok: config.TIKTOK_ACCESS_TOKEN
      ? perAccount((advertiserId) =>
          createTikTokAds({
            baseUrl: config.TIKTOK_BASE_URL,
            accessToken: config.TIKTOK_ACCESS_TOKEN!,
            advertiserId,
            timeoutMs: config.TIKTOK_REQUEST_TIMEOUT_MS,
          }),
        )
      : null,
    google: google
      ? perAccount((customerId) =>
          createGoogleAds({
            ...google,
            customerId,
            loginCustomerId: googleLoginCustomerOf(accounts, customerId),
            timeoutMs: config.GOOGLE_REQUEST_TIMEOUT_MS,
          }),
        )
      : null,
    youtube:
      google && config.GOOGLE_VIDEO === 'on'
        ? createYouTubeUploads({
            rootUrl: config.GOOGLE_YOUTUBE_URL,
            tokenUrl: google.tokenUrl,
            clientId: google.clientId,
            clientSecret: google.clientSecret,
            refreshToken: google.refreshToken,
            timeoutMs: config.GOOGLE_REQUEST_TIMEOUT_MS,
          })
        : null,
  };
}

/** Google's endpoints and credentials, when Google is configured (GOOGLE_ADS_DEVELOPER_TOKEN). */
function googleSettings(config: Config) {
  if (!config.GOOGLE_ADS_DEVELOPER_TOKEN) return null;
  return {
    restUrl: config.GOOGLE_ADS_REST_URL,
    grpcUrl: config.GOOGLE_ADS_GRPC_URL,
    tokenUrl: config.GOOGLE_OAUTH_TOKEN_URL,
    developerToken: config.GOOGLE_ADS_DEVELOPER_TOKEN,
    // loadConfig requires these three once the developer token is set.
    clientId: config.GOOGLE_ADS_CLIENT_ID!,
    clientSecret: config.GOOGLE_ADS_CLIENT_SECRET!,
    refreshToken: config.GOOGLE_ADS_REFRESH_TOKEN!,
  };
}

/**
 * The activities' real dependencies, as configured: database, platforms (a client per account of
 * the accounts file), MMP, renderer.
 */
export function activityDeps(
  config: Config,
  database: DatabaseHandle,
  accounts: AccountsFile = loadAccounts(config.ACCOUNTS_PATH),
): ActivityDeps {
  return {
    db: database.db,
    delivery: createDeliveryWriter(database),
    accounts,
    ...platformClients(config, accounts),
    mmp: mmpFromConfig(config),
    fx: loadFxTable(config.FX_RATES_PATH),
    renderer: loadRenderer(config),
    config,
  };
}

export interface LoopWorker {
  worker: Worker;
  database: DatabaseHandle;
  /** Stops polling, waits for running activities, closes the connection and the database. */
  shutdown(): Promise<void>;
  /** Resolves when the worker has stopped (after shutdown or a fatal error). */
  done: Promise<void>;
}

export async function startLoopWorker(
  config: Config,
  overrides: Partial<WorkerOptions> = {},
): Promise<LoopWorker> {
  useXgboostLibrary(config.XGBOOST_LIBRARY_PATH);
  const database = await openDatabase({ url: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR });
  let connection: NativeConnection | null = null;
  let clientConnection: Connection | null = null;
  try {
    await migrateToLatest(database.db);
    connection = await NativeConnection.connect(temporalConnectionOptions(config));
    // Encrypts every payload when PAYLOAD_KEY is set.
    const converter = dataConverterOptions(payloadCodecFrom(config));
    // Market loops read an operator's pause from the market's schedule.
    clientConnection = await Connection.connect(temporalConnectionOptions(config));
    const client = new Client({
      connection: clientConnection,
      namespace: config.TEMPORAL_NAMESPACE,
      ...converter,
    });
    const worker = await Worker.create({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      workflowsPath: WORKFLOWS_PATH,
      activities: createActivities({
        ...activityDeps(config, database),
        control: { pauseOf: (market) => schedulePause(client, market) },
      }),
      ...converter,
      ...overrides,
    });
    const conn = connection;
    const clientConn = clientConnection;
    const done = worker.run().finally(async () => {
      await conn.close();
      await clientConn.close();
      await database.close();
    });
    return {
      worker,
      database,
      done,
      async shutdown() {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await done;
      },
    };
  } catch (err) {
    await connection?.close();
    await clientConnection?.close();
    await database.close();
    throw err;
  }
}
