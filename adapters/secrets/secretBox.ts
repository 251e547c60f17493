// Seals and opens secrets with AES-256-GCM (node:crypto). The first key seals; every key opens, so keys can be
// rotated by putting a new one first. The key id is derived from the key, so no name has to be kept in step.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { SealedSecret } from '../../domain/core/sealed.js';

export interface SecretBox {
  /** The id of the key that seals. */
  readonly keyId: string;
  seal(plain: string): SealedSecret;
  /** The plain text; throws SecretUnavailableError when this site lacks the key, or the secret was altered. */
  open(sealed: SealedSecret): string;
}

export class SecretUnavailableError extends Error {
  constructor(readonly keyId: string, reason: 'unknown key' | 'tampered') {
    super(
      reason === 'unknown key'
        ? `the secret was sealed with key ${keyId}, which this site does not have (SECRET_KEY / SECRET_KEY_FILE)`
        : `the secret sealed with key ${keyId} does not authenticate: it was altered or the key is not the one that sealed it`,
    );
  }
}

export const KEY_BYTES = 32;

export const keyIdOf = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 16);

export function secretBox(keys: Buffer[]): SecretBox {
  if (keys.length === 0) throw new Error('secretBox: at least one key');
  for (const k of keys) if (k.length !== KEY_BYTES) throw new Error(`secretBox: keys are ${KEY_BYTES} bytes`);
  const byId = new Map(keys.map((k) => [keyIdOf(k), k] as const));
  const current = keys[0]!;
  const keyId = keyIdOf(current);
  return {
    keyId,
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      // The key id is authenticated too: a secret moved under another id does not open.
      cipher.setAAD(Buffer.from(keyId));
      const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return { alg: 'A256GCM', kid: keyId, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ct: ct.toString('base64') };
    },
    open(sealed) {
      const key = byId.get(sealed.kid);
      if (!key) throw new SecretUnavailableError(sealed.kid, 'unknown key');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
        decipher.setAAD(Buffer.from(sealed.kid));
        decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
        return Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64')), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretUnavailableError(sealed.kid, 'tampered');
      }
    },
  };
}
