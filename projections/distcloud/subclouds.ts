// Read model of subclouds: one document per live subcloud, holding the aggregate's state (what every GET renders).
import type { Doc } from '../../adapters/readstore/port.js';
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import {
  evolve,
  initialState,
  type SubcloudEvent,
  type SubcloudFields,
  type SubcloudState,
} from '../../domain/distcloud/subcloud.js';
import { POSITION_FIELD, positionText, type Projection } from '../core/projection.js';

export type SubcloudDoc = Doc & { status: 'active' } & SubcloudFields & { revision: number };

const STREAM_PREFIX = 'subcloud-';

export const subcloudsProjection: Projection<SubcloudDoc> = {
  name: 'distcloud.subclouds.v1',
  collection: COLLECTIONS.subclouds,
  indexes: [{ keys: { name: 1 }, unique: true }, { keys: { id: 1 }, unique: true }, { keys: { groupId: 1 } }],
  documentIds: (event) => (event.streamId.startsWith(STREAM_PREFIX) ? [event.streamId.slice(STREAM_PREFIX.length)] : []),
  evolve(doc, event, id) {
    const before: SubcloudState = doc ?? initialState();
    const after = evolve(before, event as unknown as SubcloudEvent);
    if (after.status !== 'active') return null;
    const next = Object.assign({}, after) as SubcloudDoc;
    next._id = id;
    next.revision = Number(event.revision);
    next[POSITION_FIELD] = positionText(event.position);
    return next;
  },
};
