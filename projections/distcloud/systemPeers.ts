// Read model of system peers: one document per live peer, holding the aggregate's state (the manager password only
// as sealed; the presenter never shows it).
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import { evolve, initialState, type SystemPeerEvent, type SystemPeerState } from '../../domain/distcloud/systemPeer.js';
import { aggregateStateProjection, type StateDoc } from '../core/stateProjection.js';

export type SystemPeerDoc = StateDoc<SystemPeerState>;

export const systemPeersProjection = aggregateStateProjection<SystemPeerState, SystemPeerEvent>({
  name: 'distcloud.systemPeers.v1',
  collection: COLLECTIONS.systemPeers,
  indexes: [{ keys: { peerUuid: 1 }, unique: true }, { keys: { peerName: 1 }, unique: true }, { keys: { id: 1 }, unique: true }],
  streamPrefix: 'systemPeer-',
  initialState,
  evolve,
});
