// A Temporal client for the CLI commands, configured like the workers (address, namespace,
// payload encryption), and closed by the caller.
import { Client, Connection } from '@temporalio/client';
import { loadConfigPart, type Config } from '../core/config.ts';
import { dataConverterOptions, payloadCodecFrom } from '../core/payload-codec.ts';
import {
  TEMPORAL_CONNECTION_SETTINGS,
  temporalConnectionOptions,
} from '../core/temporal-connection.ts';

/** The settings every CLI command that talks to Temporal reads. */
export const CLI_CONFIG_KEYS = [
  ...TEMPORAL_CONNECTION_SETTINGS,
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_TASK_QUEUE',
  'RENDER_TASK_QUEUE',
  'CATALOG_PATH',
  'PAYLOAD_KEY',
  'PAYLOAD_KEY_ID',
  'PAYLOAD_KEYS_PREVIOUS',
] as const;

export type CliConfig = Pick<Config, (typeof CLI_CONFIG_KEYS)[number]>;

/** The CLI's settings, from the environment (cli/adloop.ts has read `.env` into it). */
export function cliConfig(): CliConfig {
  return loadConfigPart(CLI_CONFIG_KEYS);
}

export interface CliClient {
  client: Client;
  config: CliConfig;
  close: () => Promise<void>;
}

export async function connectCli(config: CliConfig = cliConfig()): Promise<CliClient> {
  const connection = await Connection.connect(temporalConnectionOptions(config)).catch(
    (err: Error) => {
      throw new Error(
        `cannot reach Temporal at ${config.TEMPORAL_ADDRESS} (${err.message}): is \`npm start\` (or your Temporal server) running?`,
      );
    },
  );
  const client = new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    ...dataConverterOptions(payloadCodecFrom(config)),
  });
  return { client, config, close: () => connection.close() };
}
