// Renders state and read-model documents exactly as dcmanager v1.0 does (keys, order, value formats).
import type { Doc } from '../../adapters/readstore/port.js';
import { DEFAULT_GROUP, type GroupFields } from '../../domain/distcloud/subcloudGroup.js';

/** Python's str(datetime) of a naive UTC time: "2024-03-01 12:34:56.123456", no fraction when it is zero. */
export function pythonDatetime(iso: string | null | undefined): string | null {
  if (!iso) return null;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return null;
  const base = d.toISOString().slice(0, 19).replace('T', ' ');
  const ms = d.getUTCMilliseconds();
  return ms === 0 ? base : `${base}.${String(ms * 1000).padStart(6, '0')}`;
}

export interface GroupView extends GroupFields {
  id: number;
  createdAt: string | null;
  updatedAt: string | null;
}

export function presentSubcloudGroup(g: GroupView) {
  return {
    id: g.id,
    name: g.name,
    description: g.description,
    update_apply_type: g.updateApplyType,
    max_parallel_subclouds: g.maxParallelSubclouds,
    // dcmanager inserts its Default row outside the ORM, so that row has no creation time.
    'created-at': g.id === DEFAULT_GROUP.id ? null : pythonDatetime(g.createdAt),
    'updated-at': pythonDatetime(g.updatedAt),
  };
}

/** Keys of dcmanager's subcloud_db_model_to_dict, in order (R24.03), as the subcloud read model stores them. */
const SUBCLOUD_DB_KEYS = [
  'id', 'name', 'description', 'location', 'software-version', 'management-state', 'availability-status',
  'deploy-status', 'backup-status', 'backup-datetime', 'error-description', 'region-name',
  'management-subnet', 'management-start-ip', 'management-end-ip', 'management-gateway-ip',
  'openstack-installed', 'prestage-status', 'prestage-versions', 'systemcontroller-gateway-ip',
  'data_install', 'data_upgrade', 'created-at', 'updated-at', 'group_id', 'peer_group_id', 'rehome_data',
] as const;

/** The plain subcloud dict (as in GET /subcloud-groups/{ref}/subclouds): a subcloud document's `db` view. */
export function presentSubcloudDbDict(doc: Doc): Record<string, unknown> {
  const db = (doc.db ?? {}) as Record<string, unknown>;
  return Object.fromEntries(SUBCLOUD_DB_KEYS.map((k) => [k, db[k] ?? null]));
}
