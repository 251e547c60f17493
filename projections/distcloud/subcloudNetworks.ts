// Read model of each live subcloud's management network as numbers the store can compare: the narrow view the add
// command queries for the subclouds a new one's ranges could clash with (bootstrapValues.ts, networkProbes),
// instead of reading every subcloud. Addresses are stored as fixed-width hex (32 digits, IPv6's width), so string
// order is numeric order on MongoDB and in memory alike.
import type { Doc, Filter } from '../../adapters/readstore/port.js';
import type { ExistingSubcloud, NetworkProbes } from '../../domain/distcloud/bootstrapValues.js';
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import type { SubcloudEvent } from '../../domain/distcloud/subcloud.js';
import { parseAddress, parseNetwork } from '../../domain/distcloud/subcloudNetwork.js';
import type { Projection } from '../core/projection.js';

export interface SubcloudNetworkDoc extends Doc, ExistingSubcloud {
  version: 4 | 6;
  rangeStart: string;
  rangeEnd: string;
  subnetFirst: string;
  subnetLast: string;
}

export const addressKey = (value: bigint) => value.toString(16).padStart(32, '0');

const streamPrefix = 'subcloud-';
const TYPES = new Set<string>(['SubcloudAdded', 'SubcloudRenamed', 'SubcloudDeleted']);

export const subcloudNetworksProjection: Projection<SubcloudNetworkDoc> = {
  name: 'distcloud.subcloudNetworks.v1',
  collection: COLLECTIONS.subcloudNetworks,
  indexes: [{ keys: { version: 1, rangeStart: 1 } }, { keys: { version: 1, subnetFirst: 1 } }],
  documentIds: (event) => (TYPES.has(event.type) && event.streamId.startsWith(streamPrefix) ? [event.streamId.slice(streamPrefix.length)] : []),
  evolve(doc, event, id) {
    const e = event as unknown as SubcloudEvent;
    if (e.type === 'SubcloudDeleted') return null;
    if (e.type === 'SubcloudRenamed') return doc ? { ...doc, name: e.data.name } : null;
    if (e.type !== 'SubcloudAdded') return doc ?? null;
    const d = e.data;
    const start = parseAddress(d.managementStartIp);
    const end = parseAddress(d.managementEndIp);
    const subnet = parseNetwork(d.managementSubnet);
    // Written by the decider after its checks, so these parse; a document that did not would clash with nothing.
    if (!start || !end || !subnet) return null;
    return {
      _id: id,
      id: d.id,
      name: d.name,
      managementSubnet: d.managementSubnet,
      managementStartIp: d.managementStartIp,
      managementEndIp: d.managementEndIp,
      version: start.version,
      rangeStart: addressKey(start.value),
      rangeEnd: addressKey(end.value),
      subnetFirst: addressKey(subnet.first),
      subnetLast: addressKey(subnet.last),
    };
  },
};

/** The subclouds whose management range overlaps a probed range or whose management subnet holds a probed address. */
export function networkClashFilter(probes: NetworkProbes): Filter | undefined {
  const clauses: Filter[] = [
    ...probes.ranges.map((r) => ({ version: r.version, rangeStart: { $lte: addressKey(r.end) }, rangeEnd: { $gte: addressKey(r.start) } })),
    ...probes.addresses.map((a) => ({ version: a.version, subnetFirst: { $lte: addressKey(a.value) }, subnetLast: { $gte: addressKey(a.value) } })),
  ];
  return clauses.length === 0 ? undefined : { $or: clauses };
}
