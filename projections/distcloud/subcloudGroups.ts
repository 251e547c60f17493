// Read model of subcloud groups: one document per live group, holding the aggregate's state.
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import { evolve, initialState, type SubcloudGroupEvent, type SubcloudGroupState } from '../../domain/distcloud/subcloudGroup.js';
import { aggregateStateProjection, type StateDoc } from '../core/stateProjection.js';

export type ActiveGroup = Exclude<SubcloudGroupState, { status: 'absent' }>;
export type SubcloudGroupDoc = StateDoc<SubcloudGroupState>;

export const subcloudGroupsProjection = aggregateStateProjection<SubcloudGroupState, SubcloudGroupEvent>({
  name: 'distcloud.subcloudGroups.v1',
  collection: COLLECTIONS.subcloudGroups,
  indexes: [{ keys: { name: 1 }, unique: true }, { keys: { id: 1 }, unique: true }],
  streamPrefix: 'subcloudGroup-',
  initialState,
  evolve,
});
