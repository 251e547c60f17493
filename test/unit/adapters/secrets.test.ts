// Sealing secrets for events: AES-256-GCM under the first key, opened by any key the site has, refused (with the
// key's id) when the key is gone or the sealed value was altered; and where the keys come from.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultKeyFile, loadSecretKeys, SecretKeyError } from '../../../adapters/secrets/keys.js';
import { keyIdOf, secretBox, SecretUnavailableError } from '../../../adapters/secrets/secretBox.js';

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const dir = mkdtempSync(join(tmpdir(), 'fleetledger-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('secret box', () => {
  it('seals so that neither the text nor its base64 shows, and opens it again', () => {
    const box = secretBox([keyA]);
    const sealed = box.seal('St8rlingX*');
    expect(sealed).toMatchObject({ alg: 'A256GCM', kid: keyIdOf(keyA) });
    expect(JSON.stringify(sealed)).not.toContain('St8rlingX*');
    expect(JSON.stringify(sealed)).not.toContain(Buffer.from('St8rlingX*').toString('base64'));
    expect(box.open(sealed)).toBe('St8rlingX*');
    expect(box.seal('St8rlingX*').ct).not.toBe(sealed.ct); // a fresh IV each time
  });

  it('rotation: the first key seals, every key opens', () => {
    const old = secretBox([keyA]).seal('bmc-secret');
    const rotated = secretBox([keyB, keyA]);
    expect(rotated.keyId).toBe(keyIdOf(keyB));
    expect(rotated.open(old)).toBe('bmc-secret');
    expect(rotated.seal('x').kid).toBe(keyIdOf(keyB));
  });

  it('without the key, or altered, a secret does not open, and the error names the key', () => {
    const sealed = secretBox([keyA]).seal('bmc-secret');
    expect(() => secretBox([keyB]).open(sealed)).toThrow(SecretUnavailableError);
    expect(() => secretBox([keyB]).open(sealed)).toThrow(`sealed with key ${keyIdOf(keyA)}, which this site does not have`);
    const flipped = Buffer.from(sealed.ct, 'base64');
    flipped[0]! ^= 1;
    expect(() => secretBox([keyA]).open({ ...sealed, ct: flipped.toString('base64') })).toThrow(/does not authenticate/);
    expect(() => secretBox([keyA, keyB]).open({ ...sealed, kid: keyIdOf(keyB) })).toThrow(/does not authenticate/);
  });
});

describe('secret keys', () => {
  it('an embedded site creates its key file once, readable by its owner only, and keeps using it', () => {
    const dataDir = join(dir, 'site');
    const first = loadSecretKeys({ secretKey: undefined, secretKeyFile: undefined, dataDir });
    expect(first).toHaveLength(1);
    expect(statSync(defaultKeyFile(dataDir)).mode & 0o777).toBe(0o600);
    expect(loadSecretKeys({ secretKey: undefined, secretKeyFile: undefined, dataDir })[0]!.equals(first[0]!)).toBe(true);
  });

  it('SECRET_KEY wins; SECRET_KEY_FILE holds several keys with comments; bad keys are named', () => {
    expect(loadSecretKeys({ secretKey: keyA.toString('base64'), secretKeyFile: '/nonexistent', dataDir: dir })[0]!.equals(keyA)).toBe(true);
    const file = join(dir, 'keys');
    writeFileSync(file, `# newest first\n${keyB.toString('base64')}\n\n${keyA.toString('base64')}\n`);
    expect(loadSecretKeys({ secretKey: undefined, secretKeyFile: file, dataDir: dir }).map(keyIdOf)).toEqual([keyIdOf(keyB), keyIdOf(keyA)]);
    writeFileSync(file, 'not-a-key\n');
    expect(() => loadSecretKeys({ secretKey: undefined, secretKeyFile: file, dataDir: dir })).toThrow(SecretKeyError);
    expect(() => loadSecretKeys({ secretKey: undefined, secretKeyFile: file, dataDir: dir })).toThrow(`${file} line 1: a key is 32 random bytes in base64`);
    expect(readFileSync(file, 'utf8')).toBe('not-a-key\n');
  });
});
