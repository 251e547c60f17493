// Names of the distcloud read-model collections, shared by the projections that fill them
// and the commands and queries that read them.
export const COLLECTIONS = {
  subcloudGroups: 'subcloud_groups',
  subclouds: 'subclouds',
  subcloudNetworks: 'subcloud_networks',
  systemPeers: 'system_peers',
  subcloudPeerGroups: 'subcloud_peer_groups',
  peerGroupAssociations: 'peer_group_associations',
  faultAlarms: 'fault_alarms',
  swUpdateStrategies: 'sw_update_strategies',
  strategySteps: 'strategy_steps',
} as const;
