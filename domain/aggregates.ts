// Every aggregate the history API can replay: its stream prefix and how to fold its events.
import type { Decider, DomainEvent } from './core/decider.js';
import { reservationDecider } from './core/reservation.js';
import { sequenceDecider } from './core/sequence.js';
import type { Upcaster } from './core/upcasting.js';
import { subcloudDecider } from './distcloud/subcloud.js';
import { subcloudGroupDecider } from './distcloud/subcloudGroup.js';
import { faultAlarmDecider } from './distcloud/faultAlarm.js';
import { localSystemDecider } from './distcloud/localSystem.js';
import { peerGroupAssociationDecider } from './distcloud/peerGroupAssociation.js';
import { subcloudPeerGroupDecider } from './distcloud/subcloudPeerGroup.js';
import { systemPeerDecider } from './distcloud/systemPeer.js';
import { podManagerDecider } from './composable/podManager.js';
import { swUpdateStrategyDecider } from './distcloud/swUpdateStrategy.js';
import { strategyStepDecider } from './distcloud/strategyStep.js';

export interface AggregateKind {
  /** The stream prefix: streams are `<name>-<id>`. */
  name: string;
  decider: Pick<Decider<unknown, never, DomainEvent>, 'evolve' | 'initialState'>;
}

const kind = <S, C, E extends DomainEvent>(name: string, decider: Decider<S, C, E>): AggregateKind => ({
  name,
  decider: decider as unknown as AggregateKind['decider'],
});

export const AGGREGATES: AggregateKind[] = [
  kind('subcloud', subcloudDecider),
  kind('subcloudGroup', subcloudGroupDecider),
  kind('system', localSystemDecider),
  kind('systemPeer', systemPeerDecider),
  kind('subcloudPeerGroup', subcloudPeerGroupDecider),
  kind('peerGroupAssociation', peerGroupAssociationDecider),
  kind('alarm', faultAlarmDecider),
  kind('podManager', podManagerDecider),
  kind('swUpdateStrategy', swUpdateStrategyDecider),
  kind('strategyStep', strategyStepDecider),
  kind('reservation', reservationDecider),
  kind('sequence', sequenceDecider),
];

export const aggregateKind = (name: string) => AGGREGATES.find((a) => a.name === name);

/** Upcasters of every event type whose stored shape has changed since it was first written. None yet. */
export const UPCASTERS: Upcaster[] = [];
