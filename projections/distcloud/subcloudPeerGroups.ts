// Read model of subcloud peer groups: one document per live group, holding the aggregate's state.
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import { evolve, initialState, type SubcloudPeerGroupEvent, type SubcloudPeerGroupState } from '../../domain/distcloud/subcloudPeerGroup.js';
import { aggregateStateProjection, type StateDoc } from '../core/stateProjection.js';

export type SubcloudPeerGroupDoc = StateDoc<SubcloudPeerGroupState>;

export const subcloudPeerGroupsProjection = aggregateStateProjection<SubcloudPeerGroupState, SubcloudPeerGroupEvent>({
  name: 'distcloud.subcloudPeerGroups.v1',
  collection: COLLECTIONS.subcloudPeerGroups,
  indexes: [{ keys: { peerGroupName: 1 }, unique: true }, { keys: { id: 1 }, unique: true }],
  streamPrefix: 'subcloudPeerGroup-',
  initialState,
  evolve,
});
