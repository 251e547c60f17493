// A secret as an event keeps it: AES-256-GCM ciphertext and the id of the key that sealed it. Deciders only carry
// these through (they never see a key); adapters/secrets seals and opens them. A site that no longer has the key
// cannot open the secret, and every other field of the event still replays.
export interface SealedSecret {
  alg: 'A256GCM';
  /** Which key sealed it: the first 16 hex digits of the key's SHA-256. */
  kid: string;
  /** base64 */
  iv: string;
  /** base64 */
  tag: string;
  /** base64 */
  ct: string;
}

export const isSealedSecret = (v: unknown): v is SealedSecret =>
  typeof v === 'object' && v !== null && (v as SealedSecret).alg === 'A256GCM' && typeof (v as SealedSecret).ct === 'string';
