// Shared fixtures for the subcloud decider and validation tests.
import type { SubcloudConfigContext } from '../../../domain/distcloud/bootstrapValues.js';
import type { SubcloudCommand, SubcloudEvent } from '../../../domain/distcloud/subcloud.js';
import type { AddSubcloudRequest } from '../../../domain/distcloud/subcloudValidation.js';

/** A RegExp matching exactly this message. */
export const exactly = (m: string) => new RegExp(`^${m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);

export const at = '2026-03-01T10:00:00.000Z';
export const later = '2026-03-01T11:00:00.000Z';
export const region = '0123456789abcdef0123456789abcdef';
/** base64 of "St8rlingX*" */
export const SYSADMIN_B64 = Buffer.from('St8rlingX*').toString('base64');

export const bootstrap = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'subcloud1',
  system_mode: 'duplex',
  management_subnet: '192.168.101.0/24',
  management_start_address: '192.168.101.2',
  management_end_address: '192.168.101.50',
  management_gateway_address: '192.168.101.1',
  systemcontroller_gateway_address: '192.168.204.101',
  external_oam_subnet: '10.10.10.0/24',
  external_oam_gateway_address: '10.10.10.1',
  external_oam_floating_address: '10.10.10.12',
  ...over,
});

export const request = (
  form: Record<string, string> = {},
  bootstrapOver: Record<string, unknown> = {},
  extra: Partial<AddSubcloudRequest> = {},
): AddSubcloudRequest => ({
  form: { sysadmin_password: SYSADMIN_B64, 'bootstrap-address': '10.10.10.12', ...form },
  bootstrapValues: bootstrap(bootstrapOver),
  hasDeployConfig: false,
  ...extra,
});

export const context = (over: Partial<SubcloudConfigContext> = {}): SubcloudConfigContext => ({
  existingSubclouds: [],
  systemControllerManagement: { subnet: '192.168.204.0/24', startIp: '192.168.204.2', endIp: '192.168.204.100' },
  existingGroupIds: [1, 2],
  ...over,
});

export const addCommand = (req: AddSubcloudRequest = request(), ctx = context()): SubcloudCommand => ({
  type: 'AddSubcloud',
  id: 5,
  region,
  softwareVersion: '24.03',
  request: req,
  context: ctx,
  at,
});

export const added: Extract<SubcloudEvent, { type: 'SubcloudAdded' }> = {
  type: 'SubcloudAdded',
  data: {
    id: 5,
    name: 'subcloud1',
    description: null,
    location: null,
    softwareVersion: '24.03',
    regionName: region,
    deployStatus: 'not-deployed',
    managementSubnet: '192.168.101.0/24',
    managementStartIp: '192.168.101.2',
    managementEndIp: '192.168.101.50',
    managementGatewayIp: '192.168.101.1',
    systemcontrollerGatewayIp: '192.168.204.101',
    oamFloatingAddress: '10.10.10.12',
    groupId: 1,
    bootstrapAddress: '10.10.10.12',
    dataInstall: null,
    bootstrapValues: { ...bootstrap(), 'bootstrap-address': '10.10.10.12' },
    migrate: false,
    secondary: false,
    rehomeData: null,
    hasSysadminPassword: true,
    hasBmcPassword: false,
    hasDeployConfig: false,
    secrets: {},
    at,
  },
};

/** A deployed subcloud: added, deploy phases done, online. */
export const deployed: SubcloudEvent[] = [
  added,
  { type: 'SubcloudDeployPhaseStarted', data: { operationId: 'op-1', phase: 'create', deployStatus: 'creating', at } },
  { type: 'SubcloudDeployPhaseCompleted', data: { operationId: 'op-1', phase: 'create', deployStatus: 'create-complete', at } },
  { type: 'SubcloudDeployPhaseStarted', data: { operationId: 'op-2', phase: 'deploy', deployStatus: 'pre-deploy', at } },
  { type: 'SubcloudDeployPhaseCompleted', data: { operationId: 'op-2', phase: 'deploy', deployStatus: 'complete', at } },
  { type: 'SubcloudAvailabilityChanged', data: { availabilityStatus: 'online', at } },
];
export const managed: SubcloudEvent[] = [
  ...deployed,
  { type: 'SubcloudManagementStateChanged', data: { managementState: 'managed', force: false, at } },
];

/**
 * Bootstrap values for test subcloud `n`: its own management /24 (192.168.(100+n)) and OAM /24 (`<oamPrefix>.(10+n)`),
 * so subclouds made from different n never clash. `address` is the OAM floating address (the bootstrap address).
 */
export function numberedBootstrap(n: number, name: string, oamPrefix: string) {
  const oam = `${oamPrefix}.${10 + n}`;
  const values = bootstrap({
    name,
    management_subnet: `192.168.${100 + n}.0/24`,
    management_start_address: `192.168.${100 + n}.2`,
    management_end_address: `192.168.${100 + n}.50`,
    management_gateway_address: `192.168.${100 + n}.1`,
    external_oam_subnet: `${oam}.0/24`,
    external_oam_gateway_address: `${oam}.1`,
    external_oam_floating_address: `${oam}.12`,
  });
  return { values, address: `${oam}.12` };
}
