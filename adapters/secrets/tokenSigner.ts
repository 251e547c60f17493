// Signed tokens: `fl1.<payload>.<signature>`, base64url, HMAC-SHA256 under a key derived (HKDF) from the site's
// secret keys, so every process of a site checks every other's tokens without sharing a table. The first key signs;
// every key verifies, as with sealed secrets. Revocation and the user's current state are checked by the caller.
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

export interface TokenClaims {
  /** Token id (the revocation list's key, Keystone's audit id). */
  tid: string;
  /** User id. */
  uid: string;
  /** Project id the token is scoped to; absent for an unscoped token. */
  pid?: string;
  /** Issued at, expires at: ms since the epoch. */
  iat: number;
  exp: number;
}

export interface TokenSigner {
  sign(claims: Omit<TokenClaims, 'tid'>): { token: string; claims: TokenClaims };
  /** The claims of a well-formed token signed by one of the site's keys; undefined otherwise (expiry not checked). */
  verify(token: string): TokenClaims | undefined;
}

const PREFIX = 'fl1';
const signingKey = (key: Buffer) => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'fleetledger token signing v1', 32));

export function tokenSigner(keys: Buffer[]): TokenSigner {
  const signing = keys.map(signingKey);
  const mac = (key: Buffer, body: string) => createHmac('sha256', key).update(`${PREFIX}.${body}`).digest();
  return {
    sign(c) {
      const claims: TokenClaims = { tid: randomBytes(16).toString('base64url'), ...c };
      const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
      return { token: `${PREFIX}.${body}.${mac(signing[0]!, body).toString('base64url')}`, claims };
    },
    verify(token) {
      const [prefix, body, signature, extra] = token.split('.');
      if (prefix !== PREFIX || !body || !signature || extra !== undefined) return undefined;
      const given = Buffer.from(signature, 'base64url');
      if (!signing.some((k) => { const m = mac(k, body); return m.length === given.length && timingSafeEqual(m, given); })) return undefined;
      try {
        const c = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenClaims;
        if (typeof c.tid !== 'string' || typeof c.uid !== 'string' || typeof c.iat !== 'number' || typeof c.exp !== 'number') return undefined;
        return c;
      } catch {
        return undefined;
      }
    },
  };
}
