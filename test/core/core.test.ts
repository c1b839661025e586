import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseCatalog, readCatalogFile } from '../../core/catalog.ts';
import { DEFAULT_CATALOG_FETCH_TIMEOUT_MS } from '../../core/catalog-rows.ts';
import { loadConfig, loadConfigPart } from '../../core/config.ts';
import { addDays, dateRange, parseIsoDate } from '../../core/dates.ts';
import { adName, adSetName, metaAdName, parseAdName } from '../../core/ids.ts';
import { TABLED_NORMAL_MAX, keyed, normalCdf, tabledNormal } from '../../core/random.ts';
import { deepLink } from '../../core/tracking.ts';
import { contentFromLink } from '../../sandbox/deep-link.ts';
import { ROOT } from '../helpers/stack.ts';

const META = { META_ACCESS_TOKEN: 't0ken' };

describe('config', () => {
  it('names every missing or malformed variable', () => {
    assert.throws(() => loadConfig({}), /META_ACCESS_TOKEN/);
    assert.throws(
      () => loadConfig({ ...META, DEPLOY_OS: 'all' }),
      /DEPLOY_OS: must be ios, android or ios,android \(an app-install ad set promotes one store; got all\)/,
    );
    assert.throws(() => loadConfig({ ...META, ADS_PER_MARKET: '0' }), /ADS_PER_MARKET/);
  });

  it('applies documented defaults, resolves paths and is frozen', () => {
    const c = loadConfig(META, '/srv/adloop');
    assert.equal(c.TEMPORAL_ADDRESS, '127.0.0.1:7233');
    assert.equal(c.ADS_PER_MARKET, 3);
    assert.equal(c.PGLITE_DIR, '/srv/adloop/.data/pglite');
    assert.ok(Object.isFrozen(c));
  });

  it('keeps a catalog URL a URL (only file paths are resolved)', () => {
    const url = 'http://127.0.0.1:4010/__sandbox/catalog.jsonl?market={market}';
    assert.equal(loadConfig({ ...META, CATALOG_PATH: url }, '/srv/adloop').CATALOG_PATH, url);
    assert.equal(
      loadConfig({ ...META, CATALOG_PATH: 'catalog/x.json' }, '/srv/adloop').CATALOG_PATH,
      '/srv/adloop/catalog/x.json',
    );
  });

  it('bounds the platform request and catalog fetch timeouts, naming a bad one', () => {
    const keys = [
      'META_REQUEST_TIMEOUT_MS',
      'TIKTOK_REQUEST_TIMEOUT_MS',
      'MMP_REQUEST_TIMEOUT_MS',
      'CATALOG_FETCH_TIMEOUT_MS',
    ] as const;
    const defaults = loadConfig(META);
    assert.deepEqual(
      keys.map((k) => defaults[k]),
      [60_000, 60_000, 60_000, DEFAULT_CATALOG_FETCH_TIMEOUT_MS],
    );
    assert.equal(
      loadConfig({ ...META, TIKTOK_REQUEST_TIMEOUT_MS: '2500' }).TIKTOK_REQUEST_TIMEOUT_MS,
      2500,
    );
    for (const key of keys) {
      for (const bad of ['50', '600001', '1.5', 'soon']) {
        assert.throws(
          () => loadConfig({ ...META, [key]: bad }),
          (e: Error) => {
            const named = [...e.message.matchAll(/^ {2}([A-Z0-9_]+):/gm)].map((m) => m[1]);
            assert.deepEqual(named, [key], `${key}=${bad}: ${e.message}`);
            return true;
          },
        );
      }
    }
  });

  it('parses lists, weights and arms once, into the types their consumers use', () => {
    const c = loadConfig({
      ...META,
      RENDER_KINDS: 'motion,static',
      RENDER_RATIOS: '9:16,1:1',
      HEURISTIC_WEIGHTS: '2,1,1',
      RANKING_POLICY_BY_MARKET: 'SE=heuristic,BR=ml',
      ADLOOP_LOG_LEVEL: 'debug',
      XGBOOST_LIBRARY_PATH: '/opt/xgb/libxgboost.so',
    });
    assert.deepEqual(c.RENDER_KINDS, ['static', 'motion']);
    assert.deepEqual(c.RENDER_RATIOS, ['1:1', '9:16']);
    assert.deepEqual(c.HEURISTIC_WEIGHTS, {
      popularity: 0.5,
      registrationShare: 0.25,
      diversity: 0.25,
    });
    assert.deepEqual({ ...c.RANKING_POLICY_BY_MARKET }, { SE: 'heuristic', BR: 'ml' });
    assert.equal(c.ADLOOP_LOG_LEVEL, 'debug');
    assert.equal(c.XGBOOST_LIBRARY_PATH, '/opt/xgb/libxgboost.so');
    const d = loadConfig(META);
    assert.deepEqual(d.HEURISTIC_WEIGHTS, {
      popularity: 1 / 3,
      registrationShare: 1 / 3,
      diversity: 1 / 3,
    });
    assert.deepEqual({ ...d.RANKING_POLICY_BY_MARKET }, {});
    assert.equal(
      loadConfig({ ...META, HEURISTIC_WEIGHTS: '0,0,0' }).HEURISTIC_WEIGHTS.diversity,
      1 / 3,
    );
    assert.throws(() => loadConfig({ ...META, ADLOOP_LOG_LEVEL: 'verbose' }), /ADLOOP_LOG_LEVEL/);
  });

  it('loads just the settings a tool needs, validated the same way', () => {
    const c = loadConfigPart(['PGLITE_DIR', 'REPORTING_CURRENCY'], {}, '/srv/adloop');
    assert.deepEqual(
      { ...c },
      { PGLITE_DIR: '/srv/adloop/.data/pglite', REPORTING_CURRENCY: 'USD' },
    );
    assert.throws(
      () => loadConfigPart(['REPORTING_CURRENCY'], { REPORTING_CURRENCY: 'usd' }),
      /REPORTING_CURRENCY: must be an ISO 4217 code/,
    );
  });
});

describe('tabled normal samples', () => {
  it('follow the standard normal within the table, tails cut at its last quantile', () => {
    const r = keyed('tabled');
    const xs = Array.from({ length: 200_000 }, () => tabledNormal(r));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    assert.ok(Math.abs(mean) < 0.01 && Math.abs(sd - 1) < 0.01, `${mean} ${sd}`);
    for (const z of [-1.5, 0, 1, 2]) {
      const below = xs.filter((x) => x < z).length / xs.length;
      assert.ok(Math.abs(below - normalCdf(z)) < 0.005, `P(x < ${z}) = ${below}`);
    }
    const top = xs.reduce((m, x) => Math.max(m, x), -Infinity);
    assert.ok(top <= TABLED_NORMAL_MAX && top > 3.66, String(top));
  });
});

describe('dates', () => {
  it('validates calendar dates and walks ranges across month ends', () => {
    assert.equal(parseIsoDate('2026-02-28'), '2026-02-28');
    assert.throws(() => parseIsoDate('2026-02-30', '--date'), /--date is not a calendar date/);
    assert.throws(() => parseIsoDate('28.02.2026'), /YYYY-MM-DD/);
    assert.equal(addDays('2026-03-01', -1), '2026-02-28');
    assert.deepEqual(dateRange('2026-12-30', '2027-01-01'), [
      '2026-12-30',
      '2026-12-31',
      '2027-01-01',
    ]);
  });
});

describe('naming and tracking', () => {
  it('round-trips ad names and ignores ads adloop does not own', () => {
    assert.deepEqual(parseAdName(metaAdName('SE', 'abcdef0123456789abcdef01')), {
      market: 'SE',
      creativeHash: 'abcdef0123456789abcdef01',
      adSet: null,
      date: null,
    });
    const name = adName(
      adSetName('SE', { os: 'ios', objective: 'registrations' }, 2),
      '2026-03-01',
      'abcdef0123456789abcdef01',
    );
    assert.equal(name, 'adloop/SE/ios/registrations#2/ad/2026-03-01/abcdef0123456789abcdef01');
    assert.deepEqual(parseAdName(name), {
      market: 'SE',
      creativeHash: 'abcdef0123456789abcdef01',
      adSet: 'adloop/SE/ios/registrations#2',
      date: '2026-03-01',
    });
    assert.equal(parseAdName('Summer promo'), null);
  });

  it('builds deep links the sandbox can read content from', () => {
    const link = deepLink({
      platform: 'meta',
      market: 'SE',
      artistId: 'a07',
      templateId: 'duotone',
    });
    assert.match(link, /utm_campaign=adloop_SE/);
    assert.deepEqual(contentFromLink(link), { artistId: 'a07', templateId: 'duotone' });
  });

  it('keyed randomness is deterministic and key-sensitive', () => {
    assert.equal(keyed(1, 'x')(), keyed(1, 'x')());
    assert.notEqual(keyed(1, 'x')(), keyed(1, 'y')());
  });
});

describe('catalog', () => {
  it('loads the shipped demo catalog with absolute image paths', () => {
    const cat = readCatalogFile(path.join(ROOT, 'catalog/demo/catalog.json'));
    assert.ok(cat.markets.length >= 3);
    assert.ok(cat.artists.every((a) => path.isAbsolute(a.image) && fs.existsSync(a.image)));
  });

  it('names the field that is wrong', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cat-'));
    fs.writeFileSync(path.join(dir, 'x.jpg'), 'x');
    const good = {
      markets: [
        {
          code: 'SE',
          name: 'Sweden',
          language: 'sv',
          currency: 'SEK',
          timeZone: 'Europe/Stockholm',
        },
      ],
      artists: [{ id: 'a1', name: 'A', genre: 'pop', image: 'x.jpg', popularity: { SE: 0.5 } }],
    };
    assert.equal(parseCatalog(good, dir).artists.length, 1);
    const bad = structuredClone(good);
    bad.artists.push({
      id: 'a2',
      name: 'B',
      genre: 'pop',
      image: 'x.jpg',
      popularity: { SE: 1.5 },
    });
    assert.throws(
      () => parseCatalog(bad, dir, 'cat.json'),
      /cat\.json is invalid:\n\s+artists\[1\]\.popularity\.SE/,
    );
    const unknown = structuredClone(good);
    unknown.artists[0]!.popularity = { XX: 0.1 } as never;
    assert.throws(
      () => parseCatalog(unknown, dir),
      /artists\[0\]\.popularity\.XX: unknown market XX/,
    );
    const missing = structuredClone(good);
    missing.artists[0]!.image = 'nope.jpg';
    assert.throws(() => parseCatalog(missing, dir), /artists\[0\]\.image: file not found/);
    assert.throws(() => readCatalogFile(path.join(dir, 'absent.json')), /cannot read catalog/);
    const rich = {
      ...structuredClone(good),
      tracks: [{ id: 't1', title: 'Song', artistIds: ['a1'] }],
      podcasts: [{ id: 'p1', title: 'Talk', artistIds: ['nobody'] }],
    };
    assert.throws(
      () => parseCatalog(rich, dir),
      /podcasts\[0\]\.artistIds\[0\]: unknown artist nobody/,
    );
    rich.podcasts = [];
    const ok = parseCatalog(rich, dir);
    assert.deepEqual(
      ok.tracks.map((t) => t.id),
      ['t1'],
    );
    assert.deepEqual(ok.markets[0]!.languages, ['sv'], 'languages default to the main language');
    const dims = structuredClone(good) as { artists: Array<Record<string, unknown>> };
    dims.artists[0]!.embedding = [1, 2, 3];
    dims.artists.push({
      id: 'a2',
      name: 'B',
      genre: 'pop',
      image: 'x.jpg',
      popularity: { SE: 0.1 },
      embedding: [1, 2],
    });
    assert.throws(
      () => parseCatalog(dims, dir),
      /artists\[1\]\.embedding: has 2 dimensions; the first artist's has 3/,
    );
  });
});
