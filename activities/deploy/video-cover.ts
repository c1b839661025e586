// A video ad's cover image: TikTok needs one for every non-Spark video ad, of the video's aspect
// ratio (Ads/Create_ads, image_ids). adloop's motion creatives end on their still, so the last
// frame is the still at the video's own size.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runFfmpeg } from '../../render/motion.ts';

const ffmpeg = (args: string[], cwd: string) => runFfmpeg(args, cwd, 0);

/** The last frame of an MP4 as a JPEG (the first one when the video is too short to seek). */
export async function videoCover(mp4: Buffer): Promise<Buffer> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'adloop-cover-'));
  try {
    const input = path.join(dir, 'in.mp4');
    const output = path.join(dir, 'cover.jpg');
    await fs.writeFile(input, mp4);
    const encode = ['-frames:v', '1', '-q:v', '2', output];
    try {
      await ffmpeg(['-sseof', '-0.25', '-i', input, ...encode], dir);
      await fs.access(output);
    } catch {
      await ffmpeg(['-i', input, ...encode], dir);
    }
    return await fs.readFile(output);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
