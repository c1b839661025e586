import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rankHeuristic, similarity, type Candidate } from '../../decisions/rank/heuristic.ts';

const c = (
  artistId: string,
  genre: string,
  templateId: string,
  popularity: number,
  share: number | null = null,
): Candidate => ({
  artistId,
  genre,
  templateId,
  popularity,
  registrationShare: share,
});

describe('rankHeuristic', () => {
  it('ranks by popularity when nothing else differs', () => {
    const ranked = rankHeuristic(
      [c('a', 'pop', 't', 0.2), c('b', 'rock', 't2', 0.9), c('d', 'jazz', 't3', 0.5)],
      3,
    );
    assert.deepEqual(
      ranked.map((r) => r.artistId),
      ['b', 'd', 'a'],
    );
  });

  it('does not pick the same artist twice at the top when others are close', () => {
    const cands = [
      c('a', 'pop', 't1', 1),
      c('a', 'pop', 't2', 1),
      c('b', 'rock', 't1', 0.9),
      c('b', 'rock', 't2', 0.9),
    ];
    const ranked = rankHeuristic(cands, 2);
    assert.notEqual(ranked[0]!.artistId, ranked[1]!.artistId);
    assert.equal(ranked[0]!.reasons.diversity, 1);
    // The runner-up by popularity is the same artist again; diversity pushes it below b.
    const all = rankHeuristic(cands, 4);
    assert.deepEqual(
      all.map((r) => r.artistId),
      ['a', 'b', 'a', 'b'],
    );
    assert.ok(all[2]!.reasons.diversity < 1);
  });

  it('lets registration share overturn popularity', () => {
    const ranked = rankHeuristic([c('a', 'pop', 't', 1, 0.05), c('b', 'rock', 't2', 0.8, 0.95)], 1);
    assert.equal(ranked[0]!.artistId, 'b');
  });

  it('gives never-shown artists the mean observed share, not zero', () => {
    const ranked = rankHeuristic(
      [c('a', 'pop', 't', 1, 0.2), c('b', 'rock', 't2', 1, 0.6), c('n', 'jazz', 't3', 1, null)],
      3,
    );
    const fresh = ranked.find((r) => r.artistId === 'n')!;
    assert.ok(Math.abs(fresh.reasons.registrationShare - 0.4 / 0.6) < 1e-9);
  });

  it('respects weights and limit, and is independent of input order', () => {
    const cands = [
      c('a', 'pop', 't', 0.9, 0.1),
      c('b', 'rock', 't2', 0.1, 0.9),
      c('d', 'jazz', 't3', 0.5, 0.5),
    ];
    const popOnly = rankHeuristic(cands, 1, { popularity: 1, registrationShare: 0, diversity: 0 });
    assert.equal(popOnly[0]!.artistId, 'a');
    const shareOnly = rankHeuristic([...cands].reverse(), 1, {
      popularity: 0,
      registrationShare: 1,
      diversity: 0,
    });
    assert.equal(shareOnly[0]!.artistId, 'b');
    assert.deepEqual(rankHeuristic(cands, 3), rankHeuristic([...cands].reverse(), 3));
    assert.equal(rankHeuristic(cands, 0).length, 0);
    assert.equal(rankHeuristic([], 5).length, 0);
  });

  it('scores each component in [0, 1] and the total as their weighted sum', () => {
    for (const r of rankHeuristic(
      [c('a', 'pop', 't', 0.3, 0.2), c('b', 'pop', 't', 0.6, 0.1)],
      2,
    )) {
      for (const v of Object.values(r.reasons)) assert.ok(v >= 0 && v <= 1);
      const expected =
        (r.reasons.popularity + r.reasons.registrationShare + r.reasons.diversity) / 3;
      assert.ok(Math.abs(r.score - expected) < 1e-12);
    }
  });
});

describe('similarity', () => {
  it('orders same artist > same genre > unrelated', () => {
    const a = c('a', 'pop', 't1', 1);
    assert.equal(similarity(a, c('a', 'pop', 't1', 1)), 1);
    assert.ok(similarity(a, c('a', 'pop', 't2', 1)) > similarity(a, c('b', 'pop', 't2', 1)));
    assert.ok(similarity(a, c('b', 'pop', 't2', 1)) > similarity(a, c('d', 'rock', 't2', 1)));
    assert.equal(similarity(a, c('d', 'rock', 't2', 1)), 0);
  });
});
