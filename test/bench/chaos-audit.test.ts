// The chaos audit's judgements: what counts as a duplicate ad and as a lost metric row.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffRows, duplicateAds, type PlatformAd } from '../../bench/chaos/audit.ts';

const H1 = 'a'.repeat(16);
const H2 = 'b'.repeat(16);
const ad = (name: string, live = true, platform: PlatformAd['platform'] = 'meta'): PlatformAd => ({
  platform,
  name,
  live,
});

describe('duplicateAds', () => {
  it('finds none in a clean rotation', () => {
    const ads = [
      ad(`adloop/SE/default/ad/2026-06-01/${H1}`, false),
      ad(`adloop/SE/default/ad/2026-06-02/${H1}`),
      ad(`adloop/SE/default/ad/2026-06-02/${H2}`),
      // The same name on the other platform is its own ad.
      ad(`adloop/SE/default/ad/2026-06-02/${H1}`, true, 'tiktok'),
    ];
    assert.equal(duplicateAds(ads), 0);
  });

  it('counts an ad created twice under one name, live or not', () => {
    const name = `adloop/SE/default/ad/2026-06-02/${H1}`;
    assert.equal(duplicateAds([ad(name), ad(name)]), 1);
    assert.equal(duplicateAds([ad(name), ad(name, false), ad(name, false)]), 2);
  });

  it('counts two live ads showing one creative in one ad set', () => {
    const ads = [
      ad(`adloop/SE/default/ad/2026-06-01/${H1}`),
      ad(`adloop/SE/default/ad/2026-06-02/${H1}`),
      // Another ad set (a segment) may show it too.
      ad(`adloop/SE/ios/installs/ad/2026-06-02/${H1}`),
    ];
    assert.equal(duplicateAds(ads), 1);
  });
});

describe('diffRows', () => {
  const key = (r: { id: string }) => r.id;
  const values = (r: { n: number }) => [r.n];
  it('counts rows missing from the database and rows stored with other numbers', () => {
    const truth = [
      { id: 'a', n: 1 },
      { id: 'b', n: 2 },
      { id: 'c', n: 3 },
    ];
    const stored = [
      { id: 'a', n: 1 },
      { id: 'b', n: 5 },
      { id: 'z', n: 9 },
    ];
    const d = diffRows(truth, stored, key, values);
    assert.equal(d.missing, 1);
    assert.equal(d.differing, 1);
    assert.deepEqual(d.examples.sort(), ['b: stored 5, source 2', 'missing c']);
  });

  it('finds nothing lost when every row is stored as reported', () => {
    const rows = [{ id: 'a', n: 1 }];
    assert.deepEqual(diffRows(rows, rows, key, values), { missing: 0, differing: 0, examples: [] });
  });
});
