// Encryption of every Temporal payload adloop sends (workflow and activity arguments, results,
// signals, queries, memos): AES-256-GCM with a key from the environment (PAYLOAD_KEY), so the
// Temporal server, its database and anyone reading histories see ciphertext. Workers and clients
// that hold the key see the data; the codec server (cli/commands/serve-codec.ts) lets the Temporal UI
// show it to operators who run it with the key. Without PAYLOAD_KEY nothing is encrypted.
//
// An encrypted payload is the whole original payload (metadata and data, protobuf-encoded),
// sealed: data = 12-byte IV | ciphertext | 16-byte tag, metadata encoding=binary/encrypted and
// encryption-key-id=<PAYLOAD_KEY_ID>. GCM's tag makes any tampering fail to decode.
import { ValueError, type Payload, type PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

const { temporal } = proto;
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null | undefined) => (b ? new TextDecoder().decode(b) : '');

/** Parses a base64 AES-256 key, naming the variable on error. */
export function parsePayloadKey(base64: string, name = 'PAYLOAD_KEY'): Buffer {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== 32)
    throw new ValueError(
      `${name} must be 32 bytes, base64-encoded (got ${key.length}); make one with: openssl rand -base64 32`,
    );
  return key;
}

export class EncryptionCodec implements PayloadCodec {
  /**
   * @param keys key id -> 32-byte key; `current` encrypts, every key decrypts (so an old key
   * can stay while histories written with it are still read).
   */
  constructor(
    private readonly keys: ReadonlyMap<string, Buffer>,
    private readonly current: string,
  ) {
    if (!keys.has(current)) throw new ValueError(`no payload key with id ${current}`);
  }

  encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.keys.get(this.current)!;
    return Promise.resolve(
      payloads.map((p) => {
        const iv = randomBytes(IV_BYTES);
        const cipher = createCipheriv('aes-256-gcm', key, iv);
        const plain = temporal.api.common.v1.Payload.encode(p).finish();
        const sealed = Buffer.concat([
          iv,
          cipher.update(plain),
          cipher.final(),
          cipher.getAuthTag(),
        ]);
        return {
          metadata: {
            encoding: enc(ENCRYPTED_ENCODING),
            'encryption-key-id': enc(this.current),
          },
          data: sealed,
        };
      }),
    );
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    // A failure is a rejected promise, as callers of a codec expect, never a synchronous throw.
    return new Promise((resolve) =>
      resolve(
        payloads.map((p) => {
          if (dec(p.metadata?.encoding) !== ENCRYPTED_ENCODING) return p;
          const id = dec(p.metadata?.['encryption-key-id']);
          const key = this.keys.get(id);
          if (!key)
            throw new ValueError(
              `payload encrypted with key id "${id}", which this process does not hold (PAYLOAD_KEY_ID / PAYLOAD_KEYS_PREVIOUS)`,
            );
          const data = Buffer.from(p.data ?? []);
          if (data.length < IV_BYTES + TAG_BYTES)
            throw new ValueError('encrypted payload is truncated');
          const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
          decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
          let plain: Buffer;
          try {
            plain = Buffer.concat([
              decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
              decipher.final(),
            ]);
          } catch {
            throw new ValueError(
              `payload failed authentication with key id "${id}": tampered or wrong key`,
            );
          }
          return temporal.api.common.v1.Payload.decode(plain);
        }),
      ),
    );
  }
}

/**
 * The codec the configuration asks for, or null (no PAYLOAD_KEY: payloads travel as they are).
 * PAYLOAD_KEYS_PREVIOUS lists `id:base64key` pairs still accepted for decoding.
 */
export function payloadCodecFrom(env: {
  PAYLOAD_KEY?: string | undefined;
  PAYLOAD_KEY_ID?: string | undefined;
  PAYLOAD_KEYS_PREVIOUS?: string | undefined;
}): EncryptionCodec | null {
  if (!env.PAYLOAD_KEY) return null;
  const id = env.PAYLOAD_KEY_ID || 'default';
  const keys = new Map([[id, parsePayloadKey(env.PAYLOAD_KEY)]]);
  for (const entry of (env.PAYLOAD_KEYS_PREVIOUS ?? '').split(',').filter(Boolean)) {
    const [oldId, key] = entry.split(':');
    if (!oldId || !key)
      throw new ValueError('PAYLOAD_KEYS_PREVIOUS must be a comma list of id:base64key');
    keys.set(oldId, parsePayloadKey(key, `PAYLOAD_KEYS_PREVIOUS (${oldId})`));
  }
  return new EncryptionCodec(keys, id);
}

/** Client and worker data-converter options for the codec (empty without one). */
export function dataConverterOptions(codec: PayloadCodec | null) {
  return codec ? { dataConverter: { payloadCodecs: [codec] } } : {};
}
