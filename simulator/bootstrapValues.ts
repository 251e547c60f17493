// bootstrap_values / install_values YAML for each simulated subcloud (the files `dcmanager subcloud add` takes),
// with management and OAM subnets that never overlap between subclouds (spec §1.1.1 items 6 and 10).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { SystemMode } from '../adapters/subcloudAgent/contract.js';
import { nthSubnet } from './addresses.js';

/** Management subnets: a /26 each from 10.64.0.0/10 (65,536 subclouds). */
export const MANAGEMENT_POOL = { base: '10.64.0.0', prefix: 26 } as const;
/** External OAM subnets: a /28 each from 10.128.0.0/10. */
export const OAM_POOL = { base: '10.128.0.0', prefix: 28 } as const;
/** On the system controller's management network (the same for every subcloud), outside its range. */
export const DEFAULT_SYSTEMCONTROLLER_GATEWAY = '192.168.204.101';

export interface ValuesInput {
  index: number;
  name: string;
  address: string;
  systemMode: SystemMode;
  softwareVersion: string;
  systemControllerGateway: string;
}

export function bootstrapValues(v: ValuesInput): Record<string, unknown> {
  const mgmt = nthSubnet(MANAGEMENT_POOL.base, MANAGEMENT_POOL.prefix, v.index);
  const oam = nthSubnet(OAM_POOL.base, OAM_POOL.prefix, v.index);
  return {
    name: v.name,
    system_mode: v.systemMode,
    management_subnet: mgmt.cidr,
    management_start_address: mgmt.at(2),
    management_end_address: mgmt.at(mgmt.size - 2),
    management_gateway_address: mgmt.at(1),
    systemcontroller_gateway_address: v.systemControllerGateway,
    external_oam_subnet: oam.cidr,
    external_oam_gateway_address: oam.at(1),
    external_oam_floating_address: oam.at(2),
    ...(v.systemMode === 'simplex' ? {} : { external_oam_node_0_address: oam.at(3), external_oam_node_1_address: oam.at(4) }),
  };
}

export function installValues(v: ValuesInput): Record<string, unknown> {
  return {
    software_version: v.softwareVersion,
    bmc_address: v.address,
    bmc_username: 'root',
    bootstrap_interface: 'lo',
    bootstrap_address: v.address,
    bootstrap_address_prefix: 8,
    boot_device: '/dev/disk/by-path/pci-0000:00:1f.2-ata-1.0',
    rootfs_device: '/dev/disk/by-path/pci-0000:00:1f.2-ata-1.0',
    persistent_size: 30000,
    install_type: v.systemMode === 'simplex' ? 2 : 0,
  };
}

/** Writes `<name>-bootstrap_values.yaml` and `<name>-install_values.yaml` into dir; returns both paths. */
export async function writeValuesFiles(dir: string, v: ValuesInput) {
  const bootstrap = join(dir, `${v.name}-bootstrap_values.yaml`);
  const install = join(dir, `${v.name}-install_values.yaml`);
  const header = `# simulated subcloud ${v.name}: bootstrap-address ${v.address}\n`;
  await writeFile(bootstrap, header + stringify(bootstrapValues(v)));
  await writeFile(install, header + stringify(installValues(v)));
  return { bootstrap, install };
}
