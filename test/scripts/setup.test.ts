// Set-up on a fresh machine: what the start banner says about each market's ranker, how the
// system requirements are checked and what is printed when they cannot be installed, and where
// ffmpeg comes from.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { expectedRanker } from '../../activities/rank/model-inputs.ts';
import { MIN_TRAINING_ROWS } from '../../ml/training.ts';
import { lineSplitter } from '../../core/lines.ts';
import { DEFAULT_WORLD } from '../../sandbox/environment.ts';
import { ROOT } from '../helpers/stack.ts';
import {
  checkMediaTools,
  missingToolMessage,
  resolveMediaTools,
} from '../../render/media-tools.ts';
import {
  ensureSystemDeps,
  SYSTEM_REQUIREMENTS,
  type SystemRequirement,
} from '../../scripts/lib/system-deps.ts';

describe('the ranker each market will use', () => {
  const loads = { loads: true as const, version: '1.7.4' };
  const champion = { version: 3, trainingTo: '2026-11-27' };

  it('is the champion model when the policy is ml, libxgboost loads and a model exists', () => {
    const r = expectedRanker({ policy: 'ml', xgboost: loads, champion });
    assert.equal(r.ranker, 'ml');
    assert.match(
      r.why,
      /champion rank-xgb v3, trained on days up to 2026-11-27, libxgboost 1\.7\.4/,
    );
  });

  it('is the heuristic, saying why: its arm, a library that does not load, or no model yet', () => {
    assert.deepEqual(expectedRanker({ policy: 'heuristic', xgboost: loads, champion }), {
      ranker: 'heuristic',
      why: 'its policy arm is the heuristic (RANKING_POLICY…)',
    });
    const noLib = expectedRanker({
      policy: 'ml',
      xgboost: { loads: false, error: 'cannot load libxgboost; apt-get install -y libxgboost0' },
      champion,
    });
    assert.equal(noLib.ranker, 'heuristic');
    assert.match(noLib.why, /^libxgboost does not load: cannot load libxgboost; apt-get install/);
    const noModel = expectedRanker({ policy: 'ml', xgboost: loads, champion: null });
    assert.equal(noModel.ranker, 'heuristic');
    assert.match(
      noModel.why,
      new RegExp(`no trained ranking model yet .*${MIN_TRAINING_ROWS} creative-days`),
    );
  });
});

describe('system requirements', () => {
  const fake = (id: string, present: boolean, packages = [id]): SystemRequirement => ({
    id,
    what: `${id} for testing`,
    packages,
    for: ['test'],
    present: () => present,
    without: `nothing works without ${id}`,
  });

  it('are only what npm cannot bring, each with its Debian package', () => {
    assert.deepEqual(
      SYSTEM_REQUIREMENTS.map((r) => [r.id, r.packages.join(' '), r.for.join(',')]),
      [
        ['libxgboost', 'libxgboost0', 'start,test'],
        ['xgboost-cli', 'xgboost', 'test'],
        ['postgresql', 'postgresql', 'test'],
        ['chromium', 'chromium', 'test'],
      ],
    );
  });

  it('print the one command that installs what is missing, and what is lost without it', async () => {
    const lines: string[] = [];
    const result = await ensureSystemDeps('test', (l) => lines.push(l), {
      mode: 'print',
      requirements: [
        fake('alpha', false, ['pkg-a', 'pkg-shared']),
        fake('beta', true),
        fake('gamma', false, ['pkg-shared']),
      ],
    });
    assert.deepEqual(result.missing, ['alpha', 'gamma']);
    assert.deepEqual(result.installed, []);
    assert.deepEqual(
      result.stillMissing.map((r) => r.id),
      ['alpha', 'gamma'],
    );
    assert.match(
      result.command ?? '',
      /apt-get install -y --no-install-recommends pkg-a pkg-shared$/,
    );
    assert.ok(
      lines.some(
        (l) => l === 'Still missing: alpha for testing; without it nothing works without alpha',
      ),
    );
    assert.ok(lines.some((l) => l.startsWith('To install: ') && l.includes('pkg-a pkg-shared')));
  });

  it('say nothing when everything is there, or when the check is off', async () => {
    const lines: string[] = [];
    const present = await ensureSystemDeps('test', (l) => lines.push(l), {
      mode: 'install',
      requirements: [fake('beta', true)],
    });
    assert.deepEqual(present, { missing: [], installed: [], stillMissing: [], command: null });
    const off = await ensureSystemDeps('test', (l) => lines.push(l), {
      mode: 'off',
      requirements: [fake('alpha', false)],
    });
    assert.deepEqual(off.missing, []);
    assert.deepEqual(lines, []);
    // A requirement for the other purpose is not checked.
    const start = await ensureSystemDeps('start', () => undefined, {
      mode: 'print',
      requirements: [fake('alpha', false)],
    });
    assert.deepEqual(start.missing, []);
  });
});

describe('ffmpeg and ffprobe', () => {
  it('come from the npm packages unless FFMPEG_PATH / FFPROBE_PATH say otherwise', () => {
    const fromNpm = resolveMediaTools({});
    assert.equal(fromNpm.ffmpeg.source, 'npm');
    assert.match(fromNpm.ffmpeg.path, /node_modules\/@ffmpeg-installer\/[a-z0-9-]+\/ffmpeg$/);
    assert.equal(fromNpm.ffprobe.source, 'npm');
    const own = resolveMediaTools({
      FFMPEG_PATH: '/opt/ff/ffmpeg',
      FFPROBE_PATH: '/opt/ff/ffprobe',
    });
    assert.deepEqual(own.ffmpeg, { path: '/opt/ff/ffmpeg', source: 'env' });
    assert.deepEqual(own.ffprobe, { path: '/opt/ff/ffprobe', source: 'env' });
  });

  it('run, with libx264, and a tool that does not run is named with its fix', () => {
    const versions = checkMediaTools(resolveMediaTools({}));
    assert.deepEqual(
      versions.map((v) => v.name),
      ['ffmpeg', 'ffprobe'],
    );
    assert.match(versions[0]!.version, /^ffmpeg version /);
    const broken = resolveMediaTools({ FFMPEG_PATH: '/nonexistent/ffmpeg' });
    assert.throws(
      () => checkMediaTools(broken),
      /ffmpeg: FFMPEG_PATH=\/nonexistent\/ffmpeg does not run; run `npm install`/,
    );
    assert.match(
      missingToolMessage('ffprobe', { path: 'ffprobe', source: 'path' }),
      /no ffprobe for this platform in node_modules and none on PATH/,
    );
  });
});

describe('progress output', () => {
  it('reads a child process line by line across chunks, keeping its end for errors', () => {
    const lines: string[] = [];
    const out = lineSplitter((l) => lines.push(l), 10);
    out.push('go: downloading a\ninternal/c');
    out.push(Buffer.from('pu\nnet/http\n'));
    out.push('partial');
    assert.deepEqual(lines, ['go: downloading a', 'internal/cpu', 'net/http']);
    assert.equal(out.tail, 'tp\npartial');
  });
});

describe('the embedded default', () => {
  it("starts the sandbox on the shipped demo world, keeping its state under the repository's .data", () => {
    assert.ok(fs.existsSync(DEFAULT_WORLD), `${DEFAULT_WORLD} is missing`);
    assert.equal(DEFAULT_WORLD, path.join(ROOT, 'sandbox/worlds/demo.json'));
  });
});
