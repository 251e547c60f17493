// Subclouds sc1..scN on a test site, in the states a prestage strategy cares about, recorded as the deploy workflow
// and the audit would (no peer group, no agent). Networks and addresses derive from n, so each is distinct.
//   ready       added, deployed (`complete`), online, managed: a prestage candidate
//   offline     as ready, then offline (the audit's failures in a row)
//   unmanaged   deployed and online, never managed
//   undeployed  online and managed (forced) while its deploy never completed
//   prestaging  as ready, with a prestage running (prestage-status prestaging-packages)
//   prestageFailed  as ready, its last prestage failed (prestage-status failed): a candidate again
import { stringify } from 'yaml';
import { expect } from 'vitest';
import { systemContext } from '../../commands/core/context.js';
import { AVAIL_FAIL_COUNT_TO_ALARM } from '../../domain/distcloud/subcloud.js';
import { recordDeployedOnline } from './subcloudStates.js';
import { numberedBootstrap, SYSADMIN_B64 } from '../unit/domain/subcloudFixtures.js';
import type { TestSite } from './site.js';

export type PrestageSubcloudState = 'ready' | 'offline' | 'unmanaged' | 'undeployed' | 'prestaging' | 'prestageFailed';

export interface PrestageSubcloud {
  id: number;
  name: string;
  address: string;
}

const ok = (r: { status: number; json?: unknown }) => expect(r.status, JSON.stringify(r.json)).toBe(200);

/** Subcloud `sc<n>` on `site`, in `state`. */
export async function addPrestageSubcloud(site: TestSite, n: number, state: PrestageSubcloudState = 'ready'): Promise<PrestageSubcloud> {
  const { values, address } = numberedBootstrap(n, `sc${n}`, '10.20');
  const added = await site.form('POST', '/v1.0/subclouds/', { sysadmin_password: SYSADMIN_B64, 'bootstrap-address': address }, { bootstrap_values: stringify(values) });
  ok(added);
  const id = added.json.id as number;
  const ctx = () => systemContext(site.clock.now(), 'test');
  const at = site.clock.now().toISOString();
  const record = site.site.commands.subclouds.record;
  await recordDeployedOnline(site, id, { deployed: state !== 'undeployed' });
  if (state !== 'unmanaged' && state !== 'undeployed') ok(await site.form('PATCH', `/v1.0/subclouds/${id}`, { 'management-state': 'managed' }));
  if (state === 'undeployed') ok(await site.form('PATCH', `/v1.0/subclouds/${id}`, { 'management-state': 'managed', force: 'true' }));
  if (state === 'offline') {
    await record(id, { type: 'RecordAvailability', reachable: false, consecutiveFailures: AVAIL_FAIL_COUNT_TO_ALARM, at }, ctx());
  }
  if (state === 'prestaging' || state === 'prestageFailed') {
    await record(id, { type: 'RecordPrestageStatus', prestageStatus: 'prestaging-packages', at }, ctx());
    if (state === 'prestageFailed') await record(id, { type: 'RecordPrestageStatus', prestageStatus: 'failed', reason: 'test', at }, ctx());
  }
  await site.site.runner.waitFor(await site.site.eventStore.headPosition(), 10_000);
  return { id, name: `sc${n}`, address: address };
}

/** sc1..sc<count>, all `ready`. */
export async function addPrestageSubclouds(site: TestSite, count: number): Promise<PrestageSubcloud[]> {
  const out: PrestageSubcloud[] = [];
  for (let n = 1; n <= count; n++) out.push(await addPrestageSubcloud(site, n));
  return out;
}
