// Minimal types for tiktok-business-api-sdk-official, which ships none. Only what adloop calls is
// declared. Every API method is callback-style: (error, data, response), where `data` is the
// parsed envelope {code, message, request_id, data}. The SDK reports `code != 0` as an Error whose
// message is "request_id:… message:… code:…" and still passes the envelope as `data`.
declare module 'tiktok-business-api-sdk-official' {
  export interface TikTokEnvelope {
    code?: number;
    message?: string;
    request_id?: string;
    data?: unknown;
  }

  /** The superagent response the SDK passes through (body holds the envelope when JSON). */
  export interface TikTokHttpResponse {
    status?: number;
    body?: unknown;
  }

  export type TikTokCallback = (
    error: unknown,
    data: TikTokEnvelope | null,
    response: TikTokHttpResponse | undefined,
  ) => void;

  type Opts = Record<string, unknown>;

  export class ApiClient {
    constructor();
    /** Base URL every API path is appended to; https://business-api.tiktok.com by default. */
    basePath: string;
    /** Request timeout in milliseconds (default 60000). */
    timeout: number;
    defaultHeaders: Record<string, string | number>;
    /** The generic request every API method makes (used for endpoints the SDK lacks). */
    callApi(
      path: string,
      method: string,
      pathParams: Opts,
      queryParams: Opts,
      headerParams: Opts,
      formParams: Opts,
      bodyParam: unknown,
      authNames: string[],
      contentTypes: string[],
      accepts: string[],
      returnType: unknown,
      callback: TikTokCallback,
    ): unknown;
  }

  export class FileApi {
    constructor(apiClient?: ApiClient);
    adImageUpload(accessToken: string, opts: Opts, callback: TikTokCallback): unknown;
    adVideoUpload(accessToken: string, opts: Opts, callback: TikTokCallback): unknown;
  }

  export class CampaignCreationApi {
    constructor(apiClient?: ApiClient);
    campaignCreate(accessToken: string, opts: { body: Opts }, callback: TikTokCallback): unknown;
    campaignStatusUpdate(
      accessToken: string,
      opts: { body: Opts },
      callback: TikTokCallback,
    ): unknown;
    campaignGet(
      advertiserId: string,
      accessToken: string,
      opts: Opts,
      callback: TikTokCallback,
    ): unknown;
  }

  export class AdgroupApi {
    constructor(apiClient?: ApiClient);
    adgroupCreate(accessToken: string, opts: { body: Opts }, callback: TikTokCallback): unknown;
    adgroupStatusUpdate(
      accessToken: string,
      opts: { body: Opts },
      callback: TikTokCallback,
    ): unknown;
    adgroupUpdate(accessToken: string, opts: { body: Opts }, callback: TikTokCallback): unknown;
    adgroupGet(
      advertiserId: string,
      accessToken: string,
      opts: Opts,
      callback: TikTokCallback,
    ): unknown;
  }

  export class AdApi {
    constructor(apiClient?: ApiClient);
    adCreate(accessToken: string, opts: { body: Opts }, callback: TikTokCallback): unknown;
    adGet(advertiserId: string, accessToken: string, opts: Opts, callback: TikTokCallback): unknown;
    adStatusUpdate(accessToken: string, opts: { body: Opts }, callback: TikTokCallback): unknown;
  }

  export class AccountManagementApi {
    constructor(apiClient?: ApiClient);
    advertiserInfo(
      advertiserIds: string[],
      accessToken: string,
      opts: Opts,
      callback: TikTokCallback,
    ): unknown;
  }

  export class IdentityApi {
    constructor(apiClient?: ApiClient);
    identityGet(
      advertiserId: string,
      accessToken: string,
      opts: Opts,
      callback: TikTokCallback,
    ): unknown;
  }

  export class APPManagementApi {
    constructor(apiClient?: ApiClient);
    appList(
      advertiserId: string,
      accessToken: string,
      opts: Opts,
      callback: TikTokCallback,
    ): unknown;
  }

  export class ReportingApi {
    constructor(apiClient?: ApiClient);
    reportIntegratedGet(
      reportType: string,
      accessToken: string,
      opts: Opts,
      callback: TikTokCallback,
    ): unknown;
  }
}
