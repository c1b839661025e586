// Where ffmpeg and ffprobe come from. adloop brings its own: the npm packages
// @ffmpeg-installer/ffmpeg and @ffprobe-installer/ffprobe carry static builds (with libx264 and
// aac) for each platform, installed by `npm install` like sharp's libvips. A team with its own
// build points FFMPEG_PATH / FFPROBE_PATH at it; a platform the packages do not cover falls back
// to the `ffmpeg` / `ffprobe` on PATH. Every spawn of either tool goes through `mediaTools()`.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

export type ToolSource = 'env' | 'npm' | 'path';

export interface MediaTool {
  /** The executable to spawn. */
  path: string;
  /** Why this one: FFMPEG_PATH/FFPROBE_PATH, the npm package, or PATH. */
  source: ToolSource;
}

export interface MediaTools {
  ffmpeg: MediaTool;
  ffprobe: MediaTool;
}

const require = createRequire(import.meta.url);

/** Where each tool comes from: its override variable, then its npm package, then PATH. */
const SOURCES = {
  ffmpeg: { variable: 'FFMPEG_PATH', pkg: '@ffmpeg-installer/ffmpeg' },
  ffprobe: { variable: 'FFPROBE_PATH', pkg: '@ffprobe-installer/ffprobe' },
} as const;

/** The tools' own paths, when the configuration names them (FFMPEG_PATH, FFPROBE_PATH). */
export type MediaToolPaths = {
  readonly [K in (typeof SOURCES)[keyof MediaTools]['variable']]?: string;
};

function resolveTool(paths: MediaToolPaths, name: keyof MediaTools): MediaTool {
  const { variable, pkg } = SOURCES[name];
  const fromEnv = paths[variable]?.trim();
  if (fromEnv) return { path: fromEnv, source: 'env' };
  try {
    // The wrapper picks its platform's optional dependency (…/linux-x64) and exports its path;
    // it throws on a platform it has no build for.
    const found = (require(pkg) as { path?: unknown }).path;
    if (typeof found === 'string' && found) return { path: found, source: 'npm' };
  } catch {
    // not installed for this platform: use PATH
  }
  return { path: name, source: 'path' };
}

/** Resolves both tools from their configured paths, the npm packages, then PATH. */
export function resolveMediaTools(paths: MediaToolPaths = {}): MediaTools {
  return {
    ffmpeg: resolveTool(paths, 'ffmpeg'),
    ffprobe: resolveTool(paths, 'ffprobe'),
  };
}

let resolved: MediaTools | null = null;

/** Sets the tools this process uses from the configuration; the render worker calls it at start. */
export function useMediaTools(paths: MediaToolPaths): MediaTools {
  resolved = resolveMediaTools(paths);
  return resolved;
}

/** The tools this process uses: as set by `useMediaTools`, else the npm packages' (then PATH). */
export function mediaTools(): MediaTools {
  resolved ??= resolveMediaTools();
  return resolved;
}

const HOW_TO_FIX: Record<keyof MediaTools, string> = {
  ffmpeg: `run \`npm install\` (it brings ${SOURCES.ffmpeg.pkg}), or set ${SOURCES.ffmpeg.variable} to an ffmpeg with libx264`,
  ffprobe: `run \`npm install\` (it brings ${SOURCES.ffprobe.pkg}), or set ${SOURCES.ffprobe.variable} to an ffprobe`,
};

/** Says which tool is missing, where it was looked for, and how to bring it. */
export function missingToolMessage(name: keyof MediaTools, tool: MediaTool): string {
  const where =
    tool.source === 'env'
      ? `${SOURCES[name].variable}=${tool.path} does not run`
      : tool.source === 'npm'
        ? `the npm package's ${tool.path} does not run`
        : `no ${name} for this platform in node_modules and none on PATH`;
  return `${name}: ${where}; ${HOW_TO_FIX[name]}`;
}

export interface ToolVersion {
  name: keyof MediaTools;
  tool: MediaTool;
  /** First line of `-version`, e.g. `ffmpeg version N-47683-g0e8eb07980-static`. */
  version: string;
}

/**
 * Runs `-version` of both tools and checks ffmpeg has the libx264 encoder every video needs.
 * Throws, naming the tool, where it was looked for and the fix, when one cannot run.
 */
export function checkMediaTools(tools: MediaTools = mediaTools()): ToolVersion[] {
  return (['ffmpeg', 'ffprobe'] as const).map((name) => {
    const tool = tools[name];
    const res = spawnSync(tool.path, ['-hide_banner', '-version'], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    if (res.error || res.status !== 0) throw new Error(missingToolMessage(name, tool));
    if (name === 'ffmpeg' && !/--enable-libx264/.test(res.stdout)) {
      throw new Error(
        `ffmpeg at ${tool.path} (${tool.source}) was built without libx264, which every video ` +
          `is encoded with; ${HOW_TO_FIX.ffmpeg}`,
      );
    }
    return { name, tool, version: res.stdout.split('\n')[0]!.trim() };
  });
}
