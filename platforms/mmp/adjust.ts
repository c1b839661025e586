// Adjust through its Report Service API (GET <base>/reports-service/report, JSON report), over
// plain fetch. One request per range: daily rows by OS, network, campaign, ad group and creative,
// with the device-level metrics (installs and event counts) and the SKAdNetwork ones
// (skad_installs and events unpacked from conversion values, `<slug>_events_est`).
//
// Each report row can hold both kinds: its device-level part becomes a per-creative row; its SKAN
// part becomes a campaign-level aggregated row, whatever ad group or creative the row names,
// because SKAN postbacks cannot tell creatives apart.
import { PlatformError } from '../errors.ts';
import {
  InFlightLimit,
  checkRange,
  count,
  field,
  platformOf,
  requestJson,
  sortRows,
} from './http.ts';
import type { AttributionRow, Mmp } from './mmp.ts';

export interface AdjustConfig {
  /**
   * API base: `https://automate.adjust.com`, `https://dash.adjust.com/control-center` or the
   * sandbox; `/reports-service/report` is appended.
   */
  baseUrl: string;
  /** The user's API token (Authorization: Bearer). */
  apiToken: string;
  appToken: string;
  /** Event slugs of the app's registration and subscription events. */
  events?: { registration: string; subscription: string };
  timeoutMs?: number;
}

/**
 * Report requests one client sends at once: Adjust answers 429 past 50 simultaneous ones
 * (dev.adjust.com/en/api/rs-api/reports), and a worker reads every market at the same time.
 */
export const ADJUST_MAX_IN_FLIGHT = 8;

const DIMENSIONS = [
  'day',
  'os_name',
  'partner_name',
  'campaign_network',
  'campaign_id_network',
  'adgroup_network',
  'adgroup_id_network',
  'creative_network',
  'creative_id_network',
];

/** Adjust's placeholder for a dimension it does not know on a row. */
const known = (v: string) => (v === '' || v === 'unknown' ? null : v);

export function createAdjust(config: AdjustConfig): Mmp {
  const events = config.events ?? { registration: 'registration', subscription: 'subscription' };
  const m = {
    registrations: `${events.registration}_events`,
    subscriptions: `${events.subscription}_events`,
    skanRegistrations: `${events.registration}_events_est`,
    skanSubscriptions: `${events.subscription}_events_est`,
  };
  const metrics = [
    'installs',
    m.registrations,
    m.subscriptions,
    'skad_installs',
    m.skanRegistrations,
    m.skanSubscriptions,
  ];
  const secrets = [config.apiToken];
  const inFlight = new InFlightLimit(ADJUST_MAX_IN_FLIGHT);

  return {
    provider: 'adjust',
    async attribution(range) {
      checkRange('adjust', range);
      const url = new URL(`${config.baseUrl.replace(/\/+$/, '')}/reports-service/report`);
      url.searchParams.set('app_token__in', config.appToken);
      url.searchParams.set('date_period', `${range.since}:${range.until}`);
      url.searchParams.set('dimensions', DIMENSIONS.join(','));
      url.searchParams.set('metrics', metrics.join(','));
      url.searchParams.set('utc_offset', '+00:00');
      url.searchParams.set('attribution_type', 'click');
      const body = (await inFlight.run(() =>
        requestJson(
          'adjust',
          url.toString(),
          { headers: { authorization: `Bearer ${config.apiToken}`, accept: 'application/json' } },
          secrets,
          config.timeoutMs,
        ),
      )) as { rows?: unknown } | null;
      // 204 No Content: nothing attributed in the range.
      if (body === null) return [];
      if (!Array.isArray(body.rows))
        throw new PlatformError('adjust', 'transient', 'report has no rows array');

      const device: AttributionRow[] = [];
      const skan = new Map<string, AttributionRow>();
      for (const raw of body.rows as Array<Record<string, unknown>>) {
        const osName = field('adjust', raw, 'os_name');
        const os = osName === 'ios' || osName === 'android' ? osName : null;
        if (os === null) continue; // other platforms (web, ...) are not ours
        const network = field('adjust', raw, 'partner_name');
        const base: Pick<
          AttributionRow,
          'date' | 'platform' | 'network' | 'campaignId' | 'campaign' | 'os'
        > = {
          date: field('adjust', raw, 'day'),
          platform: platformOf(network),
          network,
          campaignId: field('adjust', raw, 'campaign_id_network'),
          campaign: field('adjust', raw, 'campaign_network'),
          os,
        };
        const installs = count(raw, 'installs');
        const registrations = count(raw, m.registrations);
        const subscriptions = count(raw, m.subscriptions);
        if (installs + registrations + subscriptions > 0) {
          device.push({
            ...base,
            adGroupId: known(field('adjust', raw, 'adgroup_id_network')),
            adGroup: known(field('adjust', raw, 'adgroup_network')),
            creativeId: known(field('adjust', raw, 'creative_id_network')),
            creative: known(field('adjust', raw, 'creative_network')),
            installs,
            registrations,
            subscriptions,
            aggregated: false,
          });
        }
        const skadInstalls = count(raw, 'skad_installs');
        const skadRegistrations = count(raw, m.skanRegistrations);
        const skadSubscriptions = count(raw, m.skanSubscriptions);
        if (skadInstalls + skadRegistrations + skadSubscriptions > 0) {
          const key = [base.date, network, base.campaignId, os].join('\u0000');
          const row: AttributionRow = skan.get(key) ?? {
            ...base,
            adGroupId: null,
            adGroup: null,
            creativeId: null,
            creative: null,
            installs: 0,
            registrations: 0,
            subscriptions: 0,
            aggregated: true,
          };
          row.installs += skadInstalls;
          row.registrations += skadRegistrations;
          row.subscriptions += skadSubscriptions;
          skan.set(key, row);
        }
      }
      return sortRows([...device, ...skan.values()]);
    },
  };
}
