// `npm run codec-server -- [--port 8888] [--origin http://localhost:8233]`: decodes adloop's
// encrypted payloads for the Temporal UI. Needs PAYLOAD_KEY (and PAYLOAD_KEY_ID,
// PAYLOAD_KEYS_PREVIOUS) in the environment or .env. In the Temporal UI, set the codec endpoint
// (Settings, or `temporal server start-dev --ui-codec-endpoint`) to the URL it prints.
import { Command } from 'commander';
import fs from 'node:fs';
import { startCodecServer } from '../core/codec-server.ts';
import { payloadCodecFrom } from '../core/payload-codec.ts';

const opts = new Command()
  .name('npm run codec-server --')
  .description('Serve /decode and /encode of adloop payloads for the Temporal UI.')
  .option('--port <port>', 'port to listen on', '8888')
  .option('--host <host>', 'interface to listen on', '127.0.0.1')
  .option('--origin <url...>', 'Temporal UI origins allowed to call it', [
    'http://localhost:8233',
    'http://127.0.0.1:8233',
  ])
  .parse()
  .opts<{ port: string; host: string; origin: string[] }>();

try {
  if (fs.existsSync('.env')) process.loadEnvFile('.env');
  const codec = payloadCodecFrom(process.env);
  if (!codec) throw new Error('PAYLOAD_KEY is not set: there is nothing to decode');
  const server = await startCodecServer(codec, {
    port: Number(opts.port),
    host: opts.host,
    origins: opts.origin,
  });
  console.log(`codec server on ${server.url} (for ${opts.origin.join(', ')}); Ctrl-C stops it`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => void server.close().then(() => process.exit(0)));
} catch (err) {
  console.error(`codec-server failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
