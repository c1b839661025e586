// Which ranked candidates are rendered for deploy: enough for each platform's slots and spares
// among the candidates its own review has not rejected in the market.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectForDeploy } from '../../decisions/rank/deploy-selection.ts';
import type { RankedItem } from '../../core/types.ts';
import { pairKey } from '../../core/ids.ts';

const items: RankedItem[] = Array.from({ length: 12 }, (_, i) => ({
  rank: i + 1,
  artistId: `a${i + 1}`,
  templateId: 'spotlight',
  score: 1 - i / 12,
  reasons: {},
}));
const ids = (r: RankedItem[]) => r.map((i) => i.artistId);
const rejected = (m: Record<string, string[]>) =>
  new Map(Object.entries(m).map(([p, a]) => [p, new Set(a.map((x) => pairKey(x, 'spotlight')))]));
const base = { items, platforms: ['meta', 'tiktok'], slots: 3, spares: 1 };

describe('selectForDeploy', () => {
  it('takes the top slots + spares when nothing was rejected', () => {
    assert.deepEqual(ids(selectForDeploy({ ...base, rejected: new Map() })), [
      'a1',
      'a2',
      'a3',
      'a4',
    ]);
  });

  it('walks further for the platform whose review rejected some, and only for it', () => {
    const r = rejected({ tiktok: ['a1', 'a3'], meta: [] });
    // TikTok can use a2, a4 of the top four: two more it has not rejected (a5, a6).
    assert.deepEqual(ids(selectForDeploy({ ...base, rejected: r })), [
      'a1',
      'a2',
      'a3',
      'a4',
      'a5',
      'a6',
    ]);
  });

  it('skips candidates past the top that no platform still short can use', () => {
    const r = rejected({ tiktok: ['a1', 'a5'], meta: ['a5'] });
    assert.deepEqual(ids(selectForDeploy({ ...base, rejected: r })), [
      'a1',
      'a2',
      'a3',
      'a4',
      'a6',
    ]);
  });

  it('stops at the bound however many were rejected', () => {
    const r = rejected({ tiktok: ['a1', 'a2', 'a3', 'a4'] });
    const picked = selectForDeploy({ ...base, platforms: ['tiktok'], rejected: r, max: 5 });
    assert.deepEqual(ids(picked), ['a1', 'a2', 'a3', 'a4', 'a5']);
  });

  it("passes over an artist's further creatives once it has its share of every ad set", () => {
    // a1 ranks first in three templates: one ad set holds one of them (ADS_PER_ARTIST=1).
    const repeated: RankedItem[] = [
      { ...items[0]!, templateId: 'spotlight' },
      { ...items[0]!, rank: 2, templateId: 'duotone' },
      { ...items[0]!, rank: 3, templateId: 'playlist' },
      ...items.slice(1).map((i) => ({ ...i, rank: i.rank + 2 })),
    ];
    const picked = selectForDeploy({ ...base, items: repeated, rejected: new Map() });
    assert.deepEqual(
      picked.map((i) => `${i.artistId}/${i.templateId}`),
      ['a1/spotlight', 'a2/spotlight', 'a3/spotlight', 'a4/spotlight'],
    );
    const two = selectForDeploy({ ...base, items: repeated, rejected: new Map(), perArtist: 2 });
    assert.deepEqual(
      two.map((i) => `${i.artistId}/${i.templateId}`),
      ['a1/spotlight', 'a1/duotone', 'a2/spotlight', 'a3/spotlight'],
    );
  });
});
