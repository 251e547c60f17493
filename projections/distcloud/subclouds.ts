// Read model of subclouds: one document per live subcloud, holding the aggregate's state (what every GET renders).
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import { evolve, initialState, type SubcloudEvent, type SubcloudState } from '../../domain/distcloud/subcloud.js';
import { aggregateStateProjection, type StateDoc } from '../core/stateProjection.js';

export type SubcloudDoc = StateDoc<SubcloudState>;

export const subcloudsProjection = aggregateStateProjection<SubcloudState, SubcloudEvent>({
  name: 'distcloud.subclouds.v1',
  collection: COLLECTIONS.subclouds,
  indexes: [{ keys: { name: 1 }, unique: true }, { keys: { id: 1 }, unique: true }, { keys: { groupId: 1 } }, { keys: { peerGroupId: 1 } }],
  streamPrefix: 'subcloud-',
  initialState,
  evolve,
});
