// The Google Ads API v24 protos, as google-ads-node ships them (the same definitions the client
// encodes with), loaded once: the gRPC services for the server, and the error messages whose
// bytes travel in trailing metadata and in partial failures.
import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

export const API_VERSION = 'v24';
const require = createRequire(import.meta.url);
const PROTOS_JSON = path.join(
  path.dirname(require.resolve('google-ads-node/package.json')),
  'build/protos/protos.json',
);

/**
 * How messages look on this side of the wire (@grpc/proto-loader's options): field names as in the
 * protos (snake_case), int64 as decimal strings, enums by name, bytes as Buffers, absent fields
 * absent (no defaults), oneof virtual fields naming the case set.
 */
export const MESSAGE_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
};

let loaded: { services: grpc.GrpcObject; root: protobuf.Root } | null = null;

function load() {
  if (!loaded) {
    const json = require(PROTOS_JSON) as protobuf.INamespace;
    const definition = protoLoader.fromJSON(json, MESSAGE_OPTIONS);
    const services = grpc.loadPackageDefinition(definition);
    loaded = { services, root: protobuf.Root.fromJSON(json) };
  }
  return loaded;
}

/** A v24 service's definition, for grpc.Server#addService (`CampaignService`...). */
export function serviceDefinition(name: string): grpc.ServiceDefinition {
  const pkg = path
    .join('google.ads.googleads', API_VERSION, 'services')
    .split(/[./]/)
    .reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], load().services) as Record<
    string,
    grpc.ServiceClientConstructor
  >;
  const ctor = pkg[name];
  if (!ctor) throw new Error(`no service ${name} in the v24 protos`);
  return ctor.service;
}

/** A message type by its full name below google.ads.googleads.v24 (`errors.GoogleAdsFailure`). */
export function messageType(name: string): protobuf.Type {
  return load().root.lookupType(`google.ads.googleads.${API_VERSION}.${name}`);
}

/** Encodes a message of `type` from its plain (snake_case, enums by name) form. */
export function encodeMessage(type: string, value: Record<string, unknown>): Buffer {
  const t = messageType(type);
  return Buffer.from(t.encode(t.fromObject(value)).finish());
}

/**
 * Whether `category` is an ErrorCode field (`query_error`) and `code` a value of its enum: every
 * error the sandbox sends is checked against the protos, so a misspelt enum cannot ship.
 */
export function isErrorCode(category: string, code: string): boolean {
  const field = messageType('errors.ErrorCode').fields[category];
  const values = (field?.resolve().resolvedType as protobuf.Enum | null)?.values;
  return values !== undefined && values[code] !== undefined;
}
