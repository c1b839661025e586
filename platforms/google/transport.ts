// Where google-ads-api sends its requests, and with which access token. The library (24.1.0) has
// no endpoint options: its queries go over REST to a hard-coded https://googleads.googleapis.com
// URL (Customer.prepareGoogleAdsServicePostRequestArgs), its mutates over gRPC to google-ads-node
// clients built with Google's default address and credentials (Service.loadService), and its
// tokens come from Google's OAuth endpoint (Service.getAccessToken, UserRefreshClient). This module
// is the one place that changes that, by overriding those methods on the library's prototypes.
//
// The overrides are process-wide, so they act only on library objects registered here
// (`attachTransport`): each adloop client registers its own Customer with its own endpoints and
// token, and any other use of google-ads-api in the process keeps the library's own behaviour.
// They depend on the library's internals, so the installed version is checked at load.
//
// Per registered object:
// - REST: the URL's origin becomes the configured REST base; the request gets a timeout, no
//   redirects, and its `request-id` answer header goes to the request log;
// - gRPC: google-ads-node clients on the configured host and port, TLS for https:// and plaintext
//   only for http:// on this machine (127.0.0.1, localhost, [::1]); the access token travels as
//   `authorization` call metadata (what call credentials would add, over the same channel); the
//   clients' own retries are off (they would resend a create on UNAVAILABLE: adloop decides what
//   is sent again, platforms/errors.ts) and every call has the configured deadline;
// - tokens: from the client's own token source (platforms/google/oauth.ts), never Google's default.
import { createRequire } from 'node:module';
import type * as grpcJs from '@grpc/grpc-js';
import { noteRequest } from '../request-log.ts';

const require = createRequire(import.meta.url);
// google-gax, google-ads-node and axios are google-ads-api's own dependencies: resolved from it, so
// the overrides use the very instances it uses (grpc credentials are checked by class).
const libRequire = createRequire(require.resolve('google-ads-api'));

/** The google-ads-api version whose internals the overrides below are written against. */
export const PINNED_GOOGLE_ADS_API = '24.1.0';

const installed = (require('google-ads-api/package.json') as { version: string }).version;
if (installed !== PINNED_GOOGLE_ADS_API)
  throw new Error(
    `google-ads-api ${installed} is installed, but platforms/google/transport.ts overrides the internals of ${PINNED_GOOGLE_ADS_API} exactly: ` +
      `install google-ads-api@${PINNED_GOOGLE_ADS_API} (package.json pins it), or check the overrides against the new version and change the pin`,
  );

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return -- the library's internals have no types */
const { Service } = require('google-ads-api/build/src/service.js') as { Service: any };
const { Customer } = require('google-ads-api/build/src/customer.js') as { Customer: any };
// The grpc-js instance google-gax (and so google-ads-node) uses: credentials must come from it.
const { grpc } = libRequire('google-gax') as { grpc: typeof grpcJs };
const axios = libRequire('axios') as {
  getAdapter: (name: string) => (config: any) => Promise<{ headers: any }>;
};
const adsNode = libRequire('google-ads-node') as Record<string, new (options: object) => any>;

/** A gRPC endpoint from its URL. */
export interface GrpcTarget {
  /** Host as grpc-js wants it (IPv6 in brackets). */
  host: string;
  port: number;
  secure: boolean;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * `https://googleads.googleapis.com:443` -> TLS; `http://127.0.0.1:4015` -> plaintext, allowed
 * only on this machine (anything else would send the token and the developer token in clear).
 */
export function parseGrpcUrl(url: string): GrpcTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`the Google Ads gRPC endpoint ${JSON.stringify(url)} is not a URL`);
  }
  const secure = u.protocol === 'https:';
  if (!secure && u.protocol !== 'http:')
    throw new Error(
      `the Google Ads gRPC endpoint must be an https:// or http:// URL, not ${u.protocol}`,
    );
  if (!secure && !LOOPBACK.has(u.hostname))
    throw new Error(
      `plaintext gRPC (http://) is refused for ${u.hostname}: only 127.0.0.1, localhost and [::1] may be reached without TLS`,
    );
  return { host: u.hostname, port: u.port ? Number(u.port) : secure ? 443 : 80, secure };
}

export interface TransportConfig {
  /** REST base (scheme, host, port, optional path prefix), without the /v24/... path. */
  restUrl: string;
  grpc: GrpcTarget;
  timeoutMs: number;
  /** The access token for REST (fetched or cached). */
  accessToken: () => Promise<string>;
  /** The latest access token, for the gRPC call metadata (the client fetches it before a call). */
  currentToken: () => string | null;
}

interface Transport extends TransportConfig {
  services: Map<string, any>;
}

const transports = new WeakMap<object, Transport>();

/** Makes the library object (a Customer or Service) use `config`. Returns a closer of its channels. */
export function attachTransport(target: object, config: TransportConfig): () => Promise<void> {
  const t: Transport = { ...config, services: new Map() };
  transports.set(target, t);
  return async () => {
    const clients = [...t.services.values()];
    t.services.clear();
    await Promise.all(clients.map((c) => Promise.resolve(c.close?.()).catch(() => undefined)));
  };
}

/** `CampaignServiceClient` -> `campaign_service_client`. */
const snake = (name: string) => name.replace(/(?<!^)([A-Z])/g, '_$1').toLowerCase();

/**
 * gax client settings for every method of the service: no retries of its own and `timeoutMs` as
 * the deadline (google-ads-node's defaults: retry on UNAVAILABLE, a 4-hour deadline).
 */
function callSettings(name: string, timeoutMs: number): object {
  const config = libRequire(`google-ads-node/build/src/v24/${snake(name)}_config.json`) as {
    interfaces: Record<string, { methods: Record<string, unknown> }>;
  };
  const interfaces: Record<string, object> = {};
  for (const [iface, { methods }] of Object.entries(config.interfaces)) {
    interfaces[iface] = {
      retry_codes: { adloop_none: [] },
      methods: Object.fromEntries(
        Object.keys(methods).map((m) => [
          m,
          { timeout_millis: timeoutMs, retry_codes_name: 'adloop_none' },
        ]),
      ),
    };
  }
  return { interfaces };
}

const original = {
  loadService: Service.prototype.loadService,
  getAccessToken: Service.prototype.getAccessToken,
  // The getter is only ever called with a library object as `this` (below).
  // eslint-disable-next-line @typescript-eslint/unbound-method
  callHeaders: Object.getOwnPropertyDescriptor(Service.prototype, 'callHeaders')!.get as (
    this: object,
  ) => Record<string, string>,
  prepare: Customer.prototype.prepareGoogleAdsServicePostRequestArgs,
};

Service.prototype.loadService = function loadService(this: object, name: string, options?: any) {
  const t = transports.get(this);
  if (!t) return original.loadService.call(this, name, options);
  let client = t.services.get(name);
  if (!client) {
    const Client = adsNode[name];
    if (!Client) throw new Error(`google-ads-node has no service client ${name}`);
    client = new Client({
      servicePath: t.grpc.host,
      port: t.grpc.port,
      sslCreds: t.grpc.secure ? grpc.credentials.createSsl() : grpc.credentials.createInsecure(),
      // Set, gax does not look for Application Default Credentials to learn it.
      universeDomain: 'googleapis.com',
      clientConfig: callSettings(name, t.timeoutMs),
    });
    t.services.set(name, client);
  }
  return client;
};

Service.prototype.getAccessToken = function getAccessToken(this: object) {
  const t = transports.get(this);
  return t ? t.accessToken() : original.getAccessToken.call(this);
};

Object.defineProperty(Service.prototype, 'callHeaders', {
  configurable: true,
  get(this: object) {
    const headers = original.callHeaders.call(this);
    const token = transports.get(this)?.currentToken();
    // gRPC sends these as call metadata; REST (below) sets its own Authorization.
    if (token) headers.authorization = `Bearer ${token}`;
    return headers;
  },
});

const httpAdapter = axios.getAdapter('http');

Customer.prototype.prepareGoogleAdsServicePostRequestArgs = function prepare(
  this: object,
  ...args: unknown[]
) {
  const request = original.prepare.apply(this, args);
  const t = transports.get(this);
  if (!t) return request;
  const path = new URL(request.url as string).pathname;
  request.url = `${t.restUrl.replace(/\/+$/, '')}${path}`;
  delete request.headers.authorization;
  request.timeout = t.timeoutMs;
  request.maxRedirects = 0;
  request.proxy = false;
  request.adapter = async (config: unknown) => {
    const note = (headers: any) => {
      const id = headers?.['request-id'] as unknown;
      noteRequest(typeof id === 'string' ? id : null);
    };
    try {
      const response = await httpAdapter(config);
      note(response.headers);
      return response;
    } catch (err) {
      note((err as { response?: { headers?: unknown } }).response?.headers);
      throw err;
    }
  };
  return request;
};
/* eslint-enable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return */

/** The library's Service class (for calls outside a customer, e.g. ListAccessibleCustomers). */
export const LibraryService = Service as new (
  clientOptions: object,
  customerOptions: object,
) => object;
