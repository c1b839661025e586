// `adloop report`: one self-contained HTML report (plots per day, market and policy arm; each
// market's ranked list with its reasons; a gallery of the live creatives), optionally CSV and JSON
// of its data, or the report served on localhost.
//
// The data comes straight from the database adloop's config points at. The embedded PGlite
// database admits one process only, so while `npm start` owns it the report asks the running loop
// worker for the data through the `reportData` workflow instead. Images are read through the
// creative store (local folder or S3), shrunk and embedded, so the file needs nothing else.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import proto from '@temporalio/proto';
import sharp from 'sharp';
import { loadConfigPart, STORE_KEYS, type Config } from '../../core/config.ts';
import { addDays, parseIsoDate, todayUtc } from '../../core/dates.ts';
import { parseMarketCode } from '../../core/ids.ts';
import { loadFxTable } from '../../core/money.ts';
import { openDatabase, type DatabaseHandle } from '../../db/database.ts';
import { DatabaseLockedError } from '../../db/pglite-lock.ts';
import { collectReportData } from '../../reports/collect.ts';
import { createCreativeStore, type CreativeStore } from '../../render/storage.ts';
import { reportHtml } from '../../reports/html-report.ts';
import type { ReportData, ReportInput } from '../../reports/report-data.ts';
import { reportCsv, reportJson } from '../../reports/report-export.ts';
import type { reportData } from '../../workflows/index.ts';
import { CLI_CONFIG_KEYS, connectCli } from '../temporal-client.ts';
import { loopbackHostHeaders } from '../../core/access.ts';

/** `adloop report` options, named as commander gives them (`--from` -> from, ...). */
export interface ReportCommandOptions {
  /** First day, YYYY-MM-DD. Default: 27 days before `to` (four weeks in all). */
  from?: string;
  /** Last day, YYYY-MM-DD. Default: yesterday, UTC. */
  to?: string;
  /** Only these markets: `SE,DE` or a list. Default: every market with data. */
  markets?: string | string[];
  /**
   * Where the HTML goes. Default `.data/reports/adloop-report-<to>.html`; with `serve`, no file
   * unless this is given.
   */
  out?: string;
  /** Also write the daily rows as CSV to this file. Default none. */
  csv?: string;
  /** Also write the report's data as JSON to this file. Default none. */
  json?: string;
  /**
   * Serve the report on http://127.0.0.1:<port>/ until Ctrl-C (`true` or an empty port: a free
   * one). Default: not served.
   */
  serve?: boolean | string | number;
}

/** What a caller other than the CLI (a test) may supply. */
export interface ReportCommandContext {
  /** Settings. Default `process.env`, plus `.env` in the working directory when there is one. */
  env?: NodeJS.ProcessEnv;
  /** Directory relative paths (options and settings) resolve against. Default `process.cwd()`. */
  cwd?: string;
  /** Where progress lines go. Default standard error. */
  progress?: (line: string) => void;
  /** Stops serving (as Ctrl-C does). */
  signal?: AbortSignal;
}

export interface ReportCommandResult {
  /** Where the data came from. */
  via: 'database' | 'temporal';
  data: ReportData;
  /** Files written (absolute paths), null when not asked for. */
  html: string | null;
  csv: string | null;
  json: string | null;
  /** Creatives embedded with a still / without one. */
  images: number;
  missingImages: string[];
}

/** Width of the embedded stills: sharp on screen in a gallery card, small in the file. */
const IMAGE_WIDTH = 320;
/** Images read and shrunk at once. */
const IMAGE_CONCURRENCY = 4;

const CONFIG_KEYS = [
  'DATABASE_URL',
  'PGLITE_DIR',
  'FX_RATES_PATH',
  'REPORTING_CURRENCY',
  'RANKING_OBJECTIVE',
  ...CLI_CONFIG_KEYS,
  ...STORE_KEYS,
] as const;

type ReportConfig = Pick<Config, (typeof CONFIG_KEYS)[number]>;

function parseMarkets(markets: ReportCommandOptions['markets']): string[] | undefined {
  if (markets === undefined) return undefined;
  const list = (Array.isArray(markets) ? markets : [markets])
    .flatMap((m) => m.split(','))
    .map((m) => m.trim())
    .filter(Boolean);
  return list.length ? [...new Set(list.map((m) => parseMarketCode(m, '--markets')))] : undefined;
}

function parsePort(serve: ReportCommandOptions['serve']): number | null {
  if (serve === undefined || serve === false) return null;
  if (serve === true || serve === '') return 0;
  const port = Number(serve);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--serve: "${serve}" is not a port number`);
  return port;
}

const kB = (bytes: number) => `${(bytes / 1024).toFixed(0)} kB`;

/** Reads the data from the database, or null when a running worker owns the PGlite database. */
async function readDatabase(
  config: ReportConfig,
  input: Required<Omit<ReportInput, 'markets'>> & { markets?: string[] },
  progress: (line: string) => void,
): Promise<ReportData | null> {
  if (!config.DATABASE_URL && !fs.existsSync(path.join(config.PGLITE_DIR, 'PG_VERSION')))
    throw new Error(
      `there is no database in ${config.PGLITE_DIR}: run the loop first (npm start), or set DATABASE_URL`,
    );
  let database: DatabaseHandle;
  try {
    database = await openDatabase({ url: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR });
  } catch (err) {
    if (err instanceof DatabaseLockedError) return null;
    throw err;
  }
  try {
    progress(`▸ reading the database (${database.where})…`);
    // A report only reads: it never migrates the schema under a running loop.
    return await collectReportData(database.db, {
      ...input,
      fx: loadFxTable(config.FX_RATES_PATH),
    }).catch((err: Error) => {
      if (/does not exist/.test(err.message))
        throw new Error(
          `${database.where} has no adloop schema (${err.message}): run the loop (npm start) first`,
        );
      throw err;
    });
  } finally {
    await database.close();
  }
}

/** Asks the loop worker that owns the database for the data, through the `reportData` workflow. */
async function readThroughTemporal(config: ReportConfig, input: ReportInput): Promise<ReportData> {
  const cli = await connectCli(config);
  try {
    const { client } = cli;
    // Without a worker on the queue the workflow would wait forever: say so at once instead.
    const queue = await client.workflowService.describeTaskQueue({
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: { name: config.TEMPORAL_TASK_QUEUE },
      taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    if ((queue.pollers ?? []).length === 0)
      throw new Error(
        `no loop worker polls task queue ${config.TEMPORAL_TASK_QUEUE} at ${config.TEMPORAL_ADDRESS}, ` +
          'and the process that holds the database does not serve reports: stop it, or start `npm start`',
      );
    return await client.workflow.execute<typeof reportData>('reportData', {
      workflowId: `report/${new Date().toISOString()}-${randomBytes(3).toString('hex')}`,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [input],
      // A report nobody waits for any more should not linger.
      workflowExecutionTimeout: '5 minutes',
    });
  } finally {
    await cli.close();
  }
}

/** A still of the creative as a small JPEG data: URI. */
async function stillDataUri(store: CreativeStore, key: string): Promise<string> {
  const jpeg = await sharp(await store.get(key))
    .resize({ width: IMAGE_WIDTH, withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 74, mozjpeg: true })
    .toBuffer();
  return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
}

/** Every live creative's still, by creative hash; unreadable ones are reported, not fatal. */
async function readImages(
  store: CreativeStore,
  data: ReportData,
  progress: (line: string) => void,
): Promise<{ images: Map<string, string>; missing: string[] }> {
  const keys = new Map<string, string | null>();
  for (const ad of data.liveAds)
    if (!keys.has(ad.creativeHash) || keys.get(ad.creativeHash) === null)
      keys.set(ad.creativeHash, ad.stillKey);
  const images = new Map<string, string>();
  const missing: string[] = [];
  const todo = [...keys.entries()];
  if (todo.length === 0) return { images, missing };
  progress(`▸ ${todo.length} creatives' images from the ${store.kind} creative store…`);
  let next = 0;
  const work = async () => {
    while (next < todo.length) {
      const [hash, key] = todo[next++]!;
      if (key === null) {
        missing.push(hash);
        progress(`  ${hash}: no still recorded`);
        continue;
      }
      try {
        images.set(hash, await stillDataUri(store, key));
      } catch (err) {
        missing.push(hash);
        progress(`  ${hash}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: IMAGE_CONCURRENCY }, work));
  return { images, missing: missing.sort() };
}

async function writeFile(file: string, text: string, progress: (line: string) => void) {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await fs.promises.writeFile(file, text);
  progress(`▸ wrote ${file} (${kB(Buffer.byteLength(text))})`);
}

/** Serves the report on 127.0.0.1 until Ctrl-C (or `signal`). */
async function serve(
  port: number,
  files: { html: string; csv: string; json: string },
  progress: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const routes: Record<string, { type: string; body: string }> = {
    '/': { type: 'text/html; charset=utf-8', body: files.html },
    '/report.csv': { type: 'text/csv; charset=utf-8', body: files.csv },
    '/report.json': { type: 'application/json; charset=utf-8', body: files.json },
  };
  // A request is a few headers: ten seconds to send them, or the connection is closed.
  const timeouts = { requestTimeout: 10_000, headersTimeout: 10_000 };
  const server = http.createServer(timeouts, (req, res) => {
    // Refusals close the connection: nothing of the request (a body included) is read further.
    const refuse = (status: number, text: string, headers: Record<string, string> = {}) =>
      res
        .writeHead(status, { 'content-type': 'text/plain', connection: 'close', ...headers })
        .end(`${text}\n`);
    const port = (server.address() as AddressInfo).port;
    if (!loopbackHostHeaders(port).has((req.headers.host ?? '').toLowerCase())) {
      refuse(421, `misdirected request: this report is served only as http://127.0.0.1:${port}/`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      refuse(405, 'only GET and HEAD', { allow: 'GET, HEAD' });
      return;
    }
    if (req.headers['transfer-encoding'] || Number(req.headers['content-length'] ?? 0) > 0) {
      refuse(413, 'the report server takes no request body');
      return;
    }
    const route = routes[new URL(req.url ?? '/', 'http://localhost').pathname];
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, {
      'content-type': route.type,
      'cache-control': 'no-store',
      // The page is self-contained; the header repeats its own policy for every route.
      'content-security-policy': "default-src 'none'; img-src data:; style-src 'unsafe-inline'",
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : route.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Loopback only, and only under its loopback names (loopbackHostHeaders): the report shows spend and
    // ad ids.
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  progress(`▸ serving the report on ${url} (CSV: ${url}report.csv, JSON: ${url}report.json)`);
  progress('  Ctrl-C stops');
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (signal?.aborted) stop();
    else signal?.addEventListener('abort', stop, { once: true });
  });
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  progress('▸ stopped serving');
}

export async function reportCommand(
  opts: ReportCommandOptions,
  ctx: ReportCommandContext = {},
): Promise<ReportCommandResult> {
  const progress = ctx.progress ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const cwd = ctx.cwd ?? process.cwd();
  // The environment, into which cli/adloop.ts has read `.env`.
  const env = ctx.env ?? process.env;
  const config = loadConfigPart(CONFIG_KEYS, env, cwd);
  const to = opts.to ? parseIsoDate(opts.to, '--to') : addDays(todayUtc(), -1);
  const from = opts.from ? parseIsoDate(opts.from, '--from') : addDays(to, -27);
  if (from > to) throw new Error(`--from ${from} is after --to ${to}`);
  const markets = parseMarkets(opts.markets);
  const port = parsePort(opts.serve);
  const input = {
    from,
    to,
    ...(markets ? { markets } : {}),
    currency: config.REPORTING_CURRENCY,
    objective: config.RANKING_OBJECTIVE,
  };

  let via: ReportCommandResult['via'] = 'database';
  let data = await readDatabase(config, input, progress);
  if (data === null) {
    via = 'temporal';
    progress(
      `▸ ${config.PGLITE_DIR} is owned by a running loop worker (npm start): asking it through ` +
        `Temporal at ${config.TEMPORAL_ADDRESS} (task queue ${config.TEMPORAL_TASK_QUEUE})…`,
    );
    data = await readThroughTemporal(config, input);
  }
  const ranked = data.rankings.length;
  progress(
    `▸ ${from} – ${to}: ${data.days.length} market-days of delivery in ${data.markets.length} markets, ` +
      `${ranked} ranked ${ranked === 1 ? 'list' : 'lists'}, ${data.liveAds.length} live ads`,
  );

  const { images, missing } = await readImages(createCreativeStore(config), data, progress);
  progress('▸ building the report…');
  const html = reportHtml(data, images);
  const csv = reportCsv(data);
  const json = reportJson(data);

  const resolve = (p: string) => path.resolve(cwd, p);
  const htmlFile =
    opts.out !== undefined
      ? resolve(opts.out)
      : port === null
        ? resolve(path.join('.data', 'reports', `adloop-report-${to}.html`))
        : null;
  if (htmlFile) await writeFile(htmlFile, html, progress);
  const csvFile = opts.csv ? resolve(opts.csv) : null;
  if (csvFile) await writeFile(csvFile, csv, progress);
  const jsonFile = opts.json ? resolve(opts.json) : null;
  if (jsonFile) await writeFile(jsonFile, json, progress);
  if (port !== null) await serve(port, { html, csv, json }, progress, ctx.signal);
  return {
    via,
    data,
    html: htmlFile,
    csv: csvFile,
    json: jsonFile,
    images: images.size,
    missingImages: missing,
  };
}
