// The fault matrix: what `npm run chaos` breaks, one scenario each. A fault is switched on for the
// whole faulted day, or days (`inject` / `clear`: the platforms and the MMP misbehave), or strikes
// once in the middle of that day's run (`strike`: a process dies or restarts at a chosen moment).
// Every fault proves it struck: a strike says what it did, a fault that is on all day counts in
// the sandbox's own request logs what it refused, dropped, held or withheld (`proof`).
import proto from '@temporalio/proto';
import { marketLoopWorkflowId } from '../../core/ids.ts';
import type { Stage } from '../../core/types.ts';
import { addDays } from '../../core/dates.ts';
import type { GoogleRequestEvent } from '../../sandbox/google/google-server.ts';
import { attributedRange } from '../../sandbox/mmp/attribution.ts';
import type { TempPostgres } from '../../scripts/lib/postgres.ts';
import { ATTRIBUTION_LOOKBACK_DAYS, REQUEST_TIMEOUT_MS, type ChaosStack } from './stack.ts';

export interface FaultContext {
  stack: ChaosStack;
  postgres: TempPostgres;
  /** The faulted day (the first, when the fault lasts several). */
  day: string;
  markets: string[];
  log: (line: string) => void;
}

export interface Fault {
  name: string;
  /** One line: what breaks. */
  what: string;
  /** Switches the fault on before the day's loop starts. */
  inject?(ctx: FaultContext): void;
  /**
   * Waits for its moment during the day's run and strikes once; resolves with what it did, or
   * null if the moment never came before `over` was aborted (the fault was not exercised).
   */
  strike?(ctx: FaultContext, over: AbortSignal): Promise<string | null>;
  /** Switches the fault off after the day. */
  clear?(ctx: FaultContext): void;
  /**
   * The faulted day may skip its deploy (a platform down all day). Under any other fault a
   * skipped deploy means the retries gave up too soon, and the scenario fails.
   */
  deploySkipAllowed?: boolean;
  /**
   * The platform the fault takes down (an outage, or its daily quota spent): only its deploy may
   * be skipped; the market's other platforms must still get today's ads.
   */
  platformDown?: Platform;
  /** Days the fault lasts, from the faulted day on (default 1). */
  days?: number;
  /**
   * What an operator does once the fault is over and before the next clean day (a backfill of
   * what a long outage kept from the lookback); resolves with what it reported.
   */
  recover?(ctx: FaultContext): Promise<string>;
  /**
   * For a fault on all day: what the sandbox's logs show it did over the faulted days (requests
   * refused, dropped, held or rows withheld), or null when it did nothing (never exercised).
   */
  proof?(tally: Tally, ctx: FaultContext): string | null;
  /**
   * The fault changes what a source reports, not whether it answers (an MMP running late): the
   * faulted day is audited against the source as it answered that day, fault still on.
   */
  changesReports?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The ad platforms adloop deploys to in the chaos stack, every one of them faulted. */
export const PLATFORMS = ['meta', 'tiktok', 'google'] as const;
export type Platform = (typeof PLATFORMS)[number];
const LABEL: Record<Platform, string> = { meta: 'Meta', tiktok: 'TikTok', google: 'Google' };

/** Rate-limit codes the sandbox answers with: Meta 4, 17, 80004; TikTok 40100. */
const THROTTLE_CODES = new Set([4, 17, 80004, 40100]);

/** What one platform's server logged over the faulted days. */
export interface PlatformTally {
  requests: number;
  /** Answered with an error: HTTP 4xx/5xx, TikTok's envelope code, a gRPC status other than OK. */
  refused: number;
  /** Of them, answered 5xx, TikTok 5xxxx or gRPC INTERNAL / UNAVAILABLE (transient). */
  failed: number;
  /**
   * Refused as rate limited: HTTP 429, Meta codes 4, 17 and 80004, TikTok 40100, gRPC
   * RESOURCE_EXHAUSTED (Google's short-term limit and its daily operations alike).
   */
  throttled: number;
  /** Carried out, answer dropped. */
  lost: number;
  /** Held unanswered, not carried out. */
  timedOut: number;
  /** Carried out late; of them, after the client had given up. */
  late: number;
  lateUnheard: number;
  /** Answered truncated. */
  malformed: number;
}

/** The sandbox's own records of the faulted days, read from its request logs. */
export interface Tally {
  meta: PlatformTally;
  tiktok: PlatformTally;
  google: PlatformTally;
  /** Adjust: requests, and of them refused (503 while down). */
  adjust: { requests: number; refused: number };
}

interface LoggedRequest {
  status: number;
  code?: number;
  lost?: boolean;
  timedOut?: boolean;
  late?: boolean;
  malformed?: boolean;
}

function tallyOf(events: readonly LoggedRequest[]): PlatformTally {
  const t: PlatformTally = {
    requests: events.length,
    refused: 0,
    failed: 0,
    throttled: 0,
    lost: 0,
    timedOut: 0,
    late: 0,
    lateUnheard: 0,
    malformed: 0,
  };
  for (const e of events) {
    const code = e.code ?? 0;
    if (e.status >= 400 || code !== 0) t.refused++;
    if (e.status >= 500 || code >= 50000) t.failed++;
    if (e.status === 429 || THROTTLE_CODES.has(code)) t.throttled++;
    if (e.lost) t.lost++;
    if (e.timedOut) t.timedOut++;
    if (e.late) t.late++;
    if (e.late && e.status === 0) t.lateUnheard++;
    if (e.malformed) t.malformed++;
  }
  return t;
}

/** gRPC status codes (grpc/status.h) the Google sandbox answers with. */
const GRPC = { OK: 0, RESOURCE_EXHAUSTED: 8, INTERNAL: 13, UNAVAILABLE: 14 } as const;

/**
 * Google's log as the other platforms' (sandbox/google/google-server.ts GoogleRequestEvent): a REST
 * call's status is HTTP (a refusal 4xx/5xx, rate limits 429), a gRPC call's is its gRPC code
 * (OK 0, RESOURCE_EXHAUSTED 8, INTERNAL 13, UNAVAILABLE 14; see google-errors.ts STATUS_TEXT for
 * the pairs). Status 0 is also what the log says of a call that got no answer (lost, timed out,
 * late and unheard): those carry their flag, and an unanswered call is never counted refused.
 */
export function googleTallyOf(events: readonly GoogleRequestEvent[]): PlatformTally {
  const t = tallyOf([]);
  t.requests = events.length;
  for (const e of events) {
    const rest = e.transport === 'rest';
    if (rest ? e.status >= 400 : e.status !== GRPC.OK) t.refused++;
    if (rest ? e.status >= 500 : e.status === GRPC.INTERNAL || e.status === GRPC.UNAVAILABLE)
      t.failed++;
    if (rest ? e.status === 429 : e.status === GRPC.RESOURCE_EXHAUSTED) t.throttled++;
    if (e.lost) t.lost++;
    if (e.timedOut) t.timedOut++;
    if (e.late) t.late++;
    // A late gRPC write the client still heard is logged OK, which is 0 too: only REST's unheard
    // ones can be told apart (the log has no flag for it).
    if (e.late && rest && e.status === 0) t.lateUnheard++;
    if (e.malformed) t.malformed++;
  }
  return t;
}

/**
 * Marks the sandbox's request logs now; the returned function tallies what they recorded since.
 */
export function markLogs(stack: ChaosStack): () => Tally {
  const { meta, tiktok, google, mmp } = stack.sandbox;
  const from = {
    meta: meta.requests.length,
    tiktok: tiktok.requests.length,
    google: google.requests.length,
    adjust: mmp.adjust.requests.length,
  };
  return () => {
    const adjust = mmp.adjust.requests.slice(from.adjust);
    return {
      meta: tallyOf(meta.requests.slice(from.meta)),
      tiktok: tallyOf(tiktok.requests.slice(from.tiktok)),
      google: googleTallyOf(google.requests.slice(from.google)),
      adjust: { requests: adjust.length, refused: adjust.filter((e) => e.status >= 400).length },
    };
  };
}

/** A proof over every platform (Meta, TikTok and Google): each must show `what` at least once. */
export function onAll(what: keyof PlatformTally, label: string) {
  return (t: Tally) =>
    PLATFORMS.every((p) => t[p][what] > 0)
      ? `${label}: ${PLATFORMS.map((p) => `${LABEL[p]} ${t[p][what]} of ${t[p].requests} requests`).join(', ')}`
      : null;
}

/** The activities that do each stage's work. */
const STAGE_ACTIVITIES = {
  ingest: ['ingestCatalog', 'ingestPlatformMetrics', 'ingestAttribution'],
  rank: ['rankMarket'],
  render: ['renderCreative'],
  deploy: ['deployCreatives'],
  learn: ['learnFromResults'],
} as const satisfies Partial<Record<Stage, readonly string[]>>;
type WorkStage = keyof typeof STAGE_ACTIVITIES;

/**
 * Resolves once one of the day's market runs has an activity of `stage` running (started on a
 * worker, per Temporal's own record of the run), naming it; null once `over` is aborted. Polls
 * through outages of Temporal itself.
 */
async function activityRunning(
  ctx: FaultContext,
  stage: WorkStage,
  over: AbortSignal,
  types: readonly string[] = STAGE_ACTIVITIES[stage],
): Promise<string | null> {
  const runs = ctx.markets.map((m) => marketLoopWorkflowId(m, ctx.day));
  // Every run asked at once, and asked again soon: a rank stage can last well under 100 ms, and
  // asking the runs one after another with a pause between rounds could miss it.
  const startedIn = async (run: string): Promise<string | null> => {
    try {
      const d = await ctx.stack.client.workflow.getHandle(run).describe();
      const running = (d.raw.pendingActivities ?? []).find(
        (a) =>
          types.includes(a.activityType?.name ?? '') &&
          a.state ===
            proto.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
      );
      return running ? `${run}'s ${running.activityType!.name}` : null;
    } catch {
      return null; // not started yet, or Temporal is away for a moment: look again
    }
  };
  while (!over.aborted) {
    const found = (await Promise.all(runs.map(startedIn))).find((r) => r !== null);
    if (found) return found;
    await sleep(10);
  }
  return null;
}

/**
 * Resolves when the sandbox has accepted a write on any platform: a POST answered 200 (Meta,
 * TikTok), a gRPC mutate answered OK (Google).
 */
function nextAcceptedWrite(ctx: FaultContext, over: AbortSignal, withinMs: number): Promise<void> {
  const { meta, tiktok, google } = ctx.stack.sandbox;
  return new Promise((resolve) => {
    const done = () => {
      meta.off('request', onRequest);
      tiktok.off('request', onRequest);
      google.off('request', onGoogle);
      clearTimeout(timer);
      resolve();
    };
    const onRequest = (e: { method: string; status: number }) => {
      if (e.method === 'POST' && e.status === 200) done();
    };
    const onGoogle = (e: GoogleRequestEvent) => {
      if (
        e.transport === 'grpc' &&
        /\/Mutate/.test(e.method) &&
        e.status === GRPC.OK &&
        !e.lost &&
        !e.timedOut &&
        !e.late
      )
        done();
    };
    meta.on('request', onRequest);
    tiktok.on('request', onRequest);
    google.on('request', onGoogle);
    const timer = setTimeout(done, withinMs);
    over.addEventListener('abort', done, { once: true });
  });
}

/** SIGKILLs the worker once a market has entered `stage`, then starts a fresh one. */
function killWorkerIn(stage: WorkStage): Fault {
  return {
    name: `worker-killed-in-${stage}`,
    what: `the loop worker is SIGKILLed while a market is in its ${stage} stage, and a new one starts`,
    async strike(ctx, over) {
      const running = await activityRunning(ctx, stage, over);
      if (!running) return null;
      // In deploy, die right after the platform accepted a write the worker has not recorded.
      if (stage === 'deploy') await nextAcceptedWrite(ctx, over, 3000);
      await ctx.stack.killWorker();
      ctx.log(`    SIGKILLed the worker while ${running} was running`);
      await sleep(1000);
      ctx.stack.startWorker();
      return `SIGKILL while ${running} was running; a new worker took over`;
    },
  };
}

type RateFault =
  | 'errorRate'
  | 'throttleRate'
  | 'timeoutRate'
  | 'malformedRate'
  | 'lostResponseRate'
  | 'lateWriteRate';

/** Every platform's live faults (Meta, TikTok, Google). */
const platformFaults = (stack: ChaosStack) => PLATFORMS.map((p) => stack.sandbox[p].faults);

/** A share of every platform's calls misbehaving all day (a sandbox fault rate). */
function platformRate(
  name: string,
  what: string,
  field: RateFault,
  rate: number,
  proof: (t: Tally) => string | null,
): Fault {
  const set = (stack: ChaosStack, value: number) => {
    for (const f of platformFaults(stack)) f[field] = value;
  };
  return {
    name,
    what,
    inject: ({ stack }) => set(stack, rate),
    clear: ({ stack }) => set(stack, 0),
    proof,
  };
}

/** A platform down all day: every call it got was refused, and the other platforms deployed. */
function platformDown(platform: Platform): Fault {
  const label = LABEL[platform];
  return {
    name: `${platform}-down-all-day`,
    what: `every ${label} call fails for the whole day; the market's other platforms still deploy`,
    deploySkipAllowed: true,
    platformDown: platform,
    inject: ({ stack, day }) => {
      stack.sandbox[platform].faults.downDates = [day];
    },
    clear: ({ stack }) => {
      stack.sandbox[platform].faults.downDates = [];
    },
    proof: (t) => {
      const p = t[platform];
      return p.requests > 0 && p.refused === p.requests
        ? `${label} refused all ${p.requests} requests of the day`
        : null;
    },
  };
}

/** Operations Google still grants once the fault strikes: a write or two, then nothing. */
const QUOTA_LEFT = 3;
/** How the Google sandbox logs a call refused for the developer token's daily operations. */
const QUOTA_EXHAUSTED = 'quota_error.RESOURCE_EXHAUSTED';

/**
 * Google's developer token runs out of its daily operations partway through the day: once a
 * market starts deploying, the day's limit becomes what was used so far plus QUOTA_LEFT, and
 * Google answers every call after that QuotaError.RESOURCE_EXHAUSTED (gRPC RESOURCE_EXHAUSTED,
 * REST 429) until the day is over, asking to retry tomorrow. The sandbox reads the limit
 * (world.google.dailyOperationLimit, else the access level's) on every call, against the
 * operations it counted for the sandbox day (operationsByDay), so it is switched live. Google's
 * deploy may be skipped; the market's other platforms must deploy.
 */
function googleQuota(): Fault {
  let before: number | undefined;
  let changed = false;
  return {
    name: 'google-quota',
    what: `Google's developer token spends its daily operations partway through the day (QuotaError.RESOURCE_EXHAUSTED until tomorrow); Meta and TikTok still deploy`,
    deploySkipAllowed: true,
    platformDown: 'google',
    async strike(ctx, over) {
      const running = await activityRunning(ctx, 'deploy', over);
      if (!running) return null;
      const { google, world } = ctx.stack.sandbox;
      const used = google.operationsByDay.get(ctx.day) ?? 0;
      before = world.google.dailyOperationLimit;
      changed = true;
      world.google.dailyOperationLimit = used + QUOTA_LEFT;
      const from = google.requests.length;
      ctx.log(
        `    Google's daily operations limited to ${used + QUOTA_LEFT} (${used} used) while ${running} was running`,
      );
      // The proof is what the rest of the day was refused: wait for the day's end.
      await new Promise<void>((resolve) =>
        over.aborted ? resolve() : over.addEventListener('abort', () => resolve(), { once: true }),
      );
      const refused = google.requests.slice(from).filter((e) => e.error === QUOTA_EXHAUSTED);
      if (refused.length === 0) return null;
      const grpc = refused.filter((e) => e.transport === 'grpc').length;
      return `Google's daily operations capped at ${used + QUOTA_LEFT} from when ${running} was running (${used} used): ${refused.length} calls refused as RESOURCE_EXHAUSTED (${grpc} gRPC, ${refused.length - grpc} REST 429)`;
    },
    clear: ({ stack }) => {
      if (!changed) return;
      changed = false;
      if (before === undefined) delete stack.sandbox.world.google.dailyOperationLimit;
      else stack.sandbox.world.google.dailyOperationLimit = before;
    },
  };
}

/**
 * How many of the conversions the MMP would report for the faulted day's attribution lookback it
 * withholds with `delayDays` more delay: the sandbox's own attribution, with and without it.
 */
function withheldConversions(ctx: FaultContext, delayDays: number): number {
  const { sandbox } = ctx.stack;
  const since = addDays(ctx.day, -ATTRIBUTION_LOOKBACK_DAYS);
  const until = addDays(ctx.day, -1);
  const sum = (extraDelayDays: number) =>
    attributedRange(
      sandbox.world,
      [sandbox.meta, sandbox.tiktok, sandbox.google],
      since,
      until,
      ctx.day,
      {
        extraDelayDays,
      },
    ).reduce((n, r) => n + r.installs + r.registrations + r.subscriptions, 0);
  return sum(0) - sum(delayDays);
}

/** Days of the MMP outage longer than the attribution lookback. */
const LONG_OUTAGE_DAYS = 5;

export const FAULTS: readonly Fault[] = [
  platformRate(
    'platform-5xx',
    '30% of Meta, TikTok and Google calls answer with a transient 5xx (Google: gRPC INTERNAL, REST 500)',
    'errorRate',
    0.3,
    onAll('failed', 'answered 5xx'),
  ),
  platformRate(
    'throttling',
    '30% of Meta, TikTok and Google calls are rate limited (HTTP 429 / Meta code 17 / TikTok 40100 / Google RESOURCE_TEMPORARILY_EXHAUSTED)',
    'throttleRate',
    0.3,
    onAll('throttled', 'rate limited'),
  ),
  {
    ...platformRate(
      'timeouts',
      '20% of Meta, TikTok and Google calls hang without an answer until the client times out',
      'timeoutRate',
      0.2,
      onAll('timedOut', 'held without an answer'),
    ),
    inject: ({ stack }) => {
      for (const f of platformFaults(stack)) {
        f.timeoutRate = 0.2;
        f.hangMs = 20_000;
      }
    },
  },
  platformRate(
    'malformed-responses',
    // Google's gRPC answers are never truncated: its REST queries (reports, look-ups) are.
    '30% of list and report pages come back truncated (malformed JSON; on Google its REST queries only)',
    'malformedRate',
    0.3,
    onAll('malformed', 'answered truncated'),
  ),
  platformRate(
    'lost-answers',
    "30% of Meta's, TikTok's and Google's writes (creates, links and status updates) are carried out and their answer lost",
    'lostResponseRate',
    0.3,
    onAll('lost', 'carried out, answer dropped'),
  ),
  {
    name: 'late-writes',
    what: "30% of Meta's, TikTok's and Google's writes land late, after the client gave up on them",
    inject: ({ stack }) => {
      for (const f of platformFaults(stack)) {
        f.lateWriteRate = 0.3;
        // Past every client's patience (Meta waits twice the timeout for a write's answer).
        f.lateWriteMs = Math.round(2.4 * REQUEST_TIMEOUT_MS);
      }
    },
    clear: ({ stack }) => {
      for (const f of platformFaults(stack)) f.lateWriteRate = 0;
    },
    // Meta's SDK cannot abort a request, so its socket stays open and hears the late answer,
    // which the client no longer waits for; TikTok's hangs up, and never hears of it; Google's
    // gRPC call is cancelled at its deadline.
    proof: onAll('late', 'carried out after the client had given up'),
  },
  platformDown('meta'),
  platformDown('tiktok'),
  platformDown('google'),
  googleQuota(),
  {
    name: 'mmp-down',
    what: 'the MMP (Adjust) answers 503 all day',
    inject: ({ stack }) => {
      stack.sandbox.mmp.faults.adjust.down = true;
    },
    clear: ({ stack }) => {
      stack.sandbox.mmp.faults.adjust.down = false;
    },
    proof: (t) =>
      t.adjust.refused > 0 && t.adjust.refused === t.adjust.requests
        ? `Adjust refused all ${t.adjust.requests} requests`
        : null,
  },
  {
    name: 'mmp-down-five-days',
    what: `the MMP (Adjust) answers 503 for ${LONG_OUTAGE_DAYS} days, longer than the ${ATTRIBUTION_LOOKBACK_DAYS}-day lookback; the operator backfills the outage`,
    days: LONG_OUTAGE_DAYS,
    inject: ({ stack }) => {
      stack.sandbox.mmp.faults.adjust.down = true;
    },
    clear: ({ stack }) => {
      stack.sandbox.mmp.faults.adjust.down = false;
    },
    // What the outage's runs could not read: the lookback before its first day to the day before
    // its last (the clean day after re-reads the last three).
    recover: (ctx) =>
      ctx.stack.backfill(
        addDays(ctx.day, -ATTRIBUTION_LOOKBACK_DAYS),
        addDays(ctx.day, LONG_OUTAGE_DAYS - 2),
      ),
    proof: (t) =>
      t.adjust.refused > 0 && t.adjust.refused === t.adjust.requests
        ? `Adjust refused all ${t.adjust.requests} requests over ${LONG_OUTAGE_DAYS} days`
        : null,
  },
  {
    name: 'mmp-late',
    what: "the MMP's pipeline is 3 days behind: recent days come back partial or empty",
    changesReports: true,
    inject: ({ stack }) => {
      stack.sandbox.mmp.faults.adjust.delayDays = 3;
    },
    clear: ({ stack }) => {
      stack.sandbox.mmp.faults.adjust.delayDays = 0;
    },
    proof: (_t, ctx) => {
      const withheld = withheldConversions(ctx, 3);
      return withheld > 0 ? `${withheld} conversions of the lookback withheld` : null;
    },
  },
  ...(['ingest', 'rank', 'render', 'deploy', 'learn'] as const).map(killWorkerIn),
  {
    name: 'temporal-restarted',
    what: 'the Temporal dev server is SIGKILLed mid-run and started again 3 s later',
    async strike(ctx, over) {
      const running = await activityRunning(ctx, 'render', over);
      if (!running) return null;
      await ctx.stack.restartTemporal(3000);
      ctx.log(`    restarted Temporal while ${running} was running`);
      return `Temporal killed and restarted while ${running} was running`;
    },
  },
  {
    name: 'database-down-in-deploy',
    what: 'PostgreSQL is down for 45 s from the moment a market plans its deploy: longer than planning retries (about 20 s)',
    async strike(ctx, over) {
      const running = await activityRunning(ctx, 'deploy', over, ['planDeployment']);
      if (!running) return null;
      await ctx.postgres.restart({ downMs: 45_000 });
      ctx.log(`    PostgreSQL down for 45 s from when ${running} was running`);
      return `PostgreSQL down for 45 s from when ${running} was running`;
    },
  },
  {
    name: 'database-restarted',
    what: 'PostgreSQL is stopped (immediate: connections dropped) mid-run and started 3 s later',
    async strike(ctx, over) {
      const running = await activityRunning(ctx, 'rank', over);
      if (!running) return null;
      await ctx.postgres.restart({ downMs: 3000 });
      ctx.log(`    restarted PostgreSQL while ${running} was running`);
      return `PostgreSQL crashed and restarted while ${running} was running`;
    },
  },
];
