// One peer session per system peer, built from its record: the manager endpoint, user name and the manager password
// opened from its sealed form and base64-decoded (as the dcmanager CLI encoded it). A record whose credentials
// changed (a new revision) gets a new session; the old one is closed.
import type { SecretBox } from '../secrets/secretBox.js';
import type { Clock } from '../../domain/core/clock.js';
import type { SealedSecret } from '../../domain/core/sealed.js';
import { peerSession, type PeerSession } from './peerSession.js';

export interface PeerRecord {
  id: number;
  revision: number;
  managerEndpoint: string;
  managerUsername: string;
  managerPassword: SealedSecret;
}

export interface PeerDirectoryOptions {
  secrets: Pick<SecretBox, 'open'>;
  clock: Clock;
}

export function peerDirectory(o: PeerDirectoryOptions) {
  const sessions = new Map<number, { key: string; session: PeerSession }>();
  return {
    /** The session for this peer record; throws SecretUnavailableError when the password's key is gone. */
    sessionFor(peer: PeerRecord): PeerSession {
      const key = `${peer.managerEndpoint}|${peer.managerUsername}|${peer.managerPassword.ct}`;
      const known = sessions.get(peer.id);
      if (known?.key === key) return known.session;
      void known?.session.close();
      const password = Buffer.from(o.secrets.open(peer.managerPassword), 'base64').toString('utf8');
      const session = peerSession(
        { authUrl: peer.managerEndpoint, username: peer.managerUsername, password },
        // Requests wait up to dcmanager's 600 s; a caller that wants less (the heartbeat) says so per call.
        { clock: o.clock },
      );
      sessions.set(peer.id, { key, session });
      return session;
    },
    async close() {
      for (const { session } of sessions.values()) await session.close();
      sessions.clear();
    },
  };
}

export type PeerDirectory = ReturnType<typeof peerDirectory>;
