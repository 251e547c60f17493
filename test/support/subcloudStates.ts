// Subcloud states a test needs without running the deploy workflow or the audit: recorded through the same
// commands those workflows use.
import { systemContext } from '../../commands/core/context.js';
import type { TestSite } from './site.js';

/** Records subcloud `id` deployed (`complete`, on `softwareVersion` if given) and online; `deployed: false` only online. */
export async function recordDeployedOnline(site: TestSite, id: number, o: { softwareVersion?: string; deployed?: boolean } = {}) {
  const ctx = () => systemContext(site.clock.now(), 'test');
  const at = site.clock.now().toISOString();
  const record = site.site.commands.subclouds.record;
  if (o.deployed !== false) {
    await record(id, { type: 'StartDeployPhase', operationId: `deploy-${id}`, phase: 'bootstrap', at }, ctx());
    await record(id, { type: 'CompleteDeployPhase', operationId: `deploy-${id}`, deployComplete: true, ...(o.softwareVersion ? { softwareVersion: o.softwareVersion } : {}), at }, ctx());
  }
  await record(id, { type: 'RecordAvailability', reachable: true, consecutiveFailures: 0, at }, ctx());
}
