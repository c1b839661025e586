// A video ad's cover image: TikTok needs one for every non-Spark video ad, of the video's aspect
// ratio (Ads/Create_ads, image_ids). adloop's motion creatives end on their still, so the last
// frame is the still at the video's own size.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

function ffmpeg(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-hide_banner', '-v', 'error', '-y', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-2000)));
    child.on('error', (err) =>
      reject(
        (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? new Error('ffmpeg is not installed (Debian: apt-get install ffmpeg)')
          : err,
      ),
    );
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}: ${log.trim()}`)),
    );
  });
}

/** The last frame of an MP4 as a JPEG (the first one when the video is too short to seek). */
export async function videoCover(mp4: Buffer): Promise<Buffer> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'adloop-cover-'));
  try {
    const input = path.join(dir, 'in.mp4');
    const output = path.join(dir, 'cover.jpg');
    await fs.writeFile(input, mp4);
    const encode = ['-frames:v', '1', '-q:v', '2', output];
    try {
      await ffmpeg(['-sseof', '-0.25', '-i', input, ...encode]);
      await fs.access(output);
    } catch {
      await ffmpeg(['-i', input, ...encode]);
    }
    return await fs.readFile(output);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
