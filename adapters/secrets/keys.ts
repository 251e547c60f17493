// Where the site's secret keys come from: SECRET_KEY (one base64 key), else SECRET_KEY_FILE (one base64 key per
// line, the first seals, `#` comments allowed), else `<DATA_DIR>/secret.keys`, created with a fresh key (mode 0600)
// on the first start of an embedded site.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_BYTES } from './secretBox.js';

export interface SecretKeySource {
  secretKey: string | undefined;
  secretKeyFile: string | undefined;
  dataDir: string;
}

export class SecretKeyError extends Error {}

/** What a key must be: KEY_BYTES bytes, written in base64 (config.ts checks SECRET_KEY with it too). */
export const isKeyText = (text: string) => /^[A-Za-z0-9+/]+={0,2}$/.test(text) && Buffer.from(text, 'base64').length === KEY_BYTES;

export function decodeKey(text: string, where: string): Buffer {
  const trimmed = text.trim();
  if (!isKeyText(trimmed)) throw new SecretKeyError(`${where}: a key is ${KEY_BYTES} random bytes in base64 (openssl rand -base64 ${KEY_BYTES})`);
  return Buffer.from(trimmed, 'base64');
}

export function parseKeyFile(text: string, where: string): Buffer[] {
  const keys = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l, i) => decodeKey(l, `${where} line ${i + 1}`));
  if (keys.length === 0) throw new SecretKeyError(`${where}: no key in the file`);
  return keys;
}

export const defaultKeyFile = (dataDir: string) => join(dataDir, 'secret.keys');

export function loadSecretKeys(source: SecretKeySource): Buffer[] {
  if (source.secretKey) return [decodeKey(source.secretKey, 'SECRET_KEY')];
  if (source.secretKeyFile) return parseKeyFile(readFileSync(source.secretKeyFile, 'utf8'), source.secretKeyFile);
  const file = defaultKeyFile(source.dataDir);
  if (!existsSync(file)) {
    mkdirSync(source.dataDir, { recursive: true });
    writeFileSync(file, `# fleetledger secret keys: the first seals, all open. Keep a copy; without it the sealed secrets are lost.\n${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  }
  return parseKeyFile(readFileSync(file, 'utf8'), file);
}
