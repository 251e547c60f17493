// GET /v1/isystems: this site as StarlingX's sysinv describes a system, the part a peer site reads to check it
// reached the system its system peer names (spec §3.6 step 1): the UUID and name, recorded at the first start.
import { Router } from 'express';
import type { LocalSystem } from '../../domain/distcloud/localSystem.js';

export function systemRouter(d: { localSystem: () => LocalSystem; softwareVersion: string }): Router {
  const router = Router();
  router.get('/isystems', (_req, res) => {
    const { uuid, name } = d.localSystem();
    res.json({
      isystems: [{ uuid, name, system_type: 'All-in-one', system_mode: 'duplex', distributed_cloud_role: 'systemcontroller', software_version: d.softwareVersion }],
    });
  });
  return router;
}
