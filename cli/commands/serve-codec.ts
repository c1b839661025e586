// `adloop codec-server [--port 8888] [--origin http://localhost:8233]` (npm run codec-server): decodes adloop's
// encrypted payloads for the Temporal UI. Needs PAYLOAD_KEY (and PAYLOAD_KEY_ID,
// PAYLOAD_KEYS_PREVIOUS) in the environment or .env. In the Temporal UI, set the codec endpoint
// (Settings, or `temporal server start-dev --ui-codec-endpoint`) to the URL it prints. Off
// loopback it needs CODEC_TOKENS or CODEC_OIDC_ISSUER and CODEC_OIDC_AUDIENCE (docs/operations.md).
import {
  CODEC_ACCESS_SETTINGS,
  codecAccessFrom,
  startCodecServer,
} from '../../ops/codec-server.ts';
import { loadConfigPart } from '../../core/config.ts';
import { payloadCodecFrom } from '../../core/payload-codec.ts';

export interface CodecServerOptions {
  port: string;
  host: string;
  origin: string[];
}

/** Serves until SIGINT or SIGTERM. */
export async function codecServerCommand(opts: CodecServerOptions): Promise<void> {
  const codec = payloadCodecFrom(process.env);
  if (!codec) throw new Error('PAYLOAD_KEY is not set: there is nothing to decode');
  const server = await startCodecServer(codec, {
    port: Number(opts.port),
    host: opts.host,
    origins: opts.origin,
    access: codecAccessFrom(loadConfigPart(CODEC_ACCESS_SETTINGS)),
  });
  console.log(`codec server on ${server.url} (for ${opts.origin.join(', ')}); Ctrl-C stops it`);
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const)
      process.once(signal, () => void server.close().then(resolve));
  });
}
