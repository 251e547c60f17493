// Read model of peer group associations: one document per live association, holding the aggregate's state.
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import {
  evolve,
  initialState,
  type PeerGroupAssociationEvent,
  type PeerGroupAssociationState,
} from '../../domain/distcloud/peerGroupAssociation.js';
import { aggregateStateProjection, type StateDoc } from '../core/stateProjection.js';

export type PeerGroupAssociationDoc = StateDoc<PeerGroupAssociationState>;

export const peerGroupAssociationsProjection = aggregateStateProjection<PeerGroupAssociationState, PeerGroupAssociationEvent>({
  name: 'distcloud.peerGroupAssociations.v1',
  collection: COLLECTIONS.peerGroupAssociations,
  indexes: [{ keys: { peerGroupId: 1, systemPeerId: 1 }, unique: true }, { keys: { systemPeerId: 1 } }, { keys: { id: 1 }, unique: true }],
  streamPrefix: 'peerGroupAssociation-',
  initialState,
  evolve,
});
