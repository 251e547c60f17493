// The add command reads only the subclouds a new one's networks could clash with (networkProbes + the
// subcloudNetworks read model). That must never change a verdict: for random fleets and random requests, the
// decider says the same with the narrowed list as with every subcloud.
import { describe, expect, it } from 'vitest';
import { memoryReadStore } from '../../../adapters/readstore/memory.js';
import { networkProbes, type ExistingSubcloud } from '../../../domain/distcloud/bootstrapValues.js';
import { COLLECTIONS } from '../../../domain/distcloud/collections.js';
import { subcloudDecider } from '../../../domain/distcloud/subcloud.js';
import { validateAddRequest } from '../../../domain/distcloud/subcloudValidation.js';
import type { ProjectedEvent } from '../../../projections/core/projection.js';
import { networkClashFilter, subcloudNetworksProjection, type SubcloudNetworkDoc } from '../../../projections/distcloud/subcloudNetworks.js';
import { seededRandom } from '../../../simulator/random.js';
import { addCommand, context, request } from '../domain/subcloudFixtures.js';

const event = (type: string, id: number, data: Record<string, unknown>): ProjectedEvent =>
  ({ type, data, streamId: `subcloud-${id}`, id: `e-${type}-${id}`, revision: 0n, position: 1n, metadata: {}, created: new Date() }) as unknown as ProjectedEvent;

const existing = (id: number, subnet: string, start: string, end: string): ExistingSubcloud => ({
  id, name: `sc${id}`, managementSubnet: subnet, managementStartIp: start, managementEndIp: end,
});

/** The projection's document for a subcloud added with these values. */
const docOf = (s: ExistingSubcloud) => subcloudNetworksProjection.evolve(undefined, event('SubcloudAdded', s.id, { ...s }), String(s.id))!;

/** The decider's answer: its events, or the error's message. */
function verdict(req: ReturnType<typeof request>, others: ExistingSubcloud[]) {
  try {
    return subcloudDecider.decide(addCommand(req, context({ existingSubclouds: others })), subcloudDecider.initialState());
  } catch (e) {
    return (e as Error).message;
  }
}

async function narrowed(req: ReturnType<typeof request>, fleet: ExistingSubcloud[]) {
  const store = memoryReadStore();
  await store.bulkWrite(fleet.map((s) => ({ kind: 'upsert' as const, collection: COLLECTIONS.subcloudNetworks, doc: docOf(s) })));
  let payload;
  try {
    payload = validateAddRequest(req);
  } catch {
    return fleet; // refused before any network rule: what the handler passes does not matter
  }
  const filter = networkClashFilter(networkProbes(payload));
  const docs = filter ? await store.find<SubcloudNetworkDoc>(COLLECTIONS.subcloudNetworks, filter, { sort: { id: 1 } }) : [];
  return docs.map((d) => existing(d.id, d.managementSubnet, d.managementStartIp, d.managementEndIp));
}

describe('subcloud networks read model', () => {
  it('keeps each live subcloud\'s management network as comparable keys; follows renames and deletes', () => {
    const doc = docOf(existing(7, '10.1.2.0/24', '10.1.2.2', '10.1.2.50'));
    expect(doc).toMatchObject({
      _id: '7', id: 7, name: 'sc7', version: 4,
      rangeStart: '0000000000000000000000000a010202', rangeEnd: '0000000000000000000000000a010232',
      subnetFirst: '0000000000000000000000000a010200', subnetLast: '0000000000000000000000000a0102ff',
    });
    const renamed = subcloudNetworksProjection.evolve(doc, event('SubcloudRenamed', 7, { name: 'edge7' }), '7');
    expect(renamed).toMatchObject({ name: 'edge7', rangeStart: doc.rangeStart });
    expect(subcloudNetworksProjection.evolve(renamed!, event('SubcloudDeleted', 7, {}), '7')).toBeNull();
    expect(subcloudNetworksProjection.documentIds(event('SubcloudAvailabilityChanged', 7, {}))).toEqual([]);
  });

  it('ranges that share only their first or last address are found; ranges side by side are not', async () => {
    const fleet = [existing(2, '10.0.1.0/24', '10.0.1.50', '10.0.1.60'), existing(3, '10.0.1.0/24', '10.0.1.100', '10.0.1.110')];
    const range = (start: string, end: string) => request({}, { management_subnet: '10.0.1.0/24', management_start_address: start, management_end_address: end, management_gateway_address: '10.0.1.1' });
    const names = async (req: ReturnType<typeof request>) => (await narrowed(req, fleet)).map((s) => s.name);
    expect(await names(range('10.0.1.2', '10.0.1.50'))).toEqual(['sc2']);
    expect(await names(range('10.0.1.60', '10.0.1.99'))).toEqual(['sc2']);
    expect(await names(range('10.0.1.61', '10.0.1.99'))).toEqual([]);
    expect(await names(range('10.0.1.2', '10.0.1.49'))).toEqual([]);
    expect(await names(range('10.0.1.40', '10.0.1.120'))).toEqual(['sc2', 'sc3']);
    expect(verdict(range('10.0.1.60', '10.0.1.99'), fleet)).toBe('Management address range overlaps with that of subcloud sc2');
  });

  it('the narrowed list gives the decider the same verdict as the whole fleet (random fleets and requests)', async () => {
    const random = seededRandom(42);
    const int = (n: number) => Math.floor(random() * n);
    let refusedForOverlap = 0;
    for (let round = 0; round < 60; round++) {
      // A fleet packed into 10.0.0.0/16 so that clashes are common; some IPv6 ones on the side.
      const fleet: ExistingSubcloud[] = [];
      for (let i = 0; i < 25; i++) {
        const id = i + 2;
        if (i % 8 === 7) {
          const n = int(4);
          fleet.push(existing(id, `fd0${n}::/64`, `fd0${n}::${10 + int(50)}`, `fd0${n}::${70 + int(50)}`));
          continue;
        }
        const third = int(16);
        const start = 2 + int(200);
        fleet.push(existing(id, `10.0.${third}.0/24`, `10.0.${third}.${start}`, `10.0.${third}.${start + int(50)}`));
      }
      const third = int(16);
      const start = 2 + int(200);
      const admin = int(4) === 0;
      const req = request({}, {
        management_subnet: `10.0.${third}.0/24`,
        management_start_address: `10.0.${third}.${start}`,
        management_end_address: int(10) === 0 ? 'not-an-address' : `10.0.${third}.${Math.min(start + int(50), 254)}`,
        management_gateway_address: admin ? undefined : `10.0.${third}.1`,
        ...(admin ? { admin_subnet: `10.0.${int(16)}.0/24` } : {}),
        ...(admin ? { admin_start_address: `10.0.${third}.2`, admin_end_address: `10.0.${third}.250`, admin_gateway_address: `10.0.${third}.1` } : {}),
        external_oam_subnet: int(2) === 0 ? `10.0.${int(16)}.${int(4) * 64}/26` : '10.200.0.0/24',
        external_oam_gateway_address: '10.0.0.1',
        external_oam_floating_address: '10.0.0.2',
      });
      const all = verdict(req, fleet);
      expect(verdict(req, await narrowed(req, fleet)), `round ${round}`).toEqual(all);
      if (typeof all === 'string' && /overlaps/.test(all)) refusedForOverlap++;
    }
    expect(refusedForOverlap).toBeGreaterThan(10); // the rounds did exercise the clash rules
  });
});
