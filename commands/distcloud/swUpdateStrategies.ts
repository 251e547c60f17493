// Software update strategy commands: create (one strategy at a time, held by a reservation so it holds under
// concurrent requests), apply, abort, delete; and the orchestrator's records on the strategy and its steps.
import { findByRef } from '../../adapters/readstore/byRef.js';
import type { EventStore } from '../../adapters/eventstore/port.js';
import type { ReadStore } from '../../adapters/readstore/port.js';
import type { SecretBox } from '../../adapters/secrets/secretBox.js';
import { NotFoundError } from '../../domain/core/errors.js';
import type { UpcasterRegistry } from '../../domain/core/upcasting.js';
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import { initialPrestageCheck, prestageFailureMessage } from '../../domain/distcloud/prestage.js';
import { groupRefOf, validateStrategyRequest, type RequestedGroup, type StrategyInput } from '../../domain/distcloud/strategyRequest.js';
import { strategyStepDecider, strategyStepStream, type StrategyStepCommand } from '../../domain/distcloud/strategyStep.js';
import {
  ACTIVE_STRATEGY_STATES,
  NO_STEPS,
  STRATEGY_NOT_FOUND,
  StrategyRequestError,
  strategyExists,
  strategyOfTypeNotFound,
  swUpdateStrategyDecider,
  swUpdateStrategyStream,
  type StrategyStepRef,
  type SwUpdateStrategyCommand,
  type SwUpdateStrategyState,
} from '../../domain/distcloud/swUpdateStrategy.js';
import type { SubcloudGroupDoc } from '../../projections/distcloud/subcloudGroups.js';
import type { SubcloudDoc } from '../../projections/distcloud/subclouds.js';
import type { SwUpdateStrategyDoc } from '../../projections/distcloud/swUpdateStrategies.js';
import { aggregateStream } from '../core/aggregateStream.js';
import type { CommandContext } from '../core/context.js';
import { decideOn, type WriteResult } from '../core/decideOn.js';
import type { Handle } from '../core/handler.js';
import { latestPosition } from '../core/renaming.js';
import type { Uniqueness } from '../core/uniqueness.js';

export const STRATEGY_ID_SCOPE = 'swUpdateStrategy';
/** One strategy of any type at a time: its id holds this reservation until it is deleted. */
const CURRENT_STRATEGY_SCOPE = 'swUpdateStrategyCurrent';
const CURRENT_STRATEGY = 'current';

export interface SwUpdateStrategyCommandDeps {
  handle: Handle;
  uniqueness: Uniqueness;
  eventStore: EventStore;
  readStore: ReadStore;
  upcasters: UpcasterRegistry;
  /** Seals the strategy's sysadmin password before it goes into an event. */
  secrets: Pick<SecretBox, 'seal'>;
  /** The system controller's release: what a prestage strategy prestages. */
  softwareVersion: string;
}

export function swUpdateStrategyCommands(deps: SwUpdateStrategyCommandDeps) {
  const { readStore, uniqueness } = deps;
  const load = (id: number) => aggregateStream(deps.eventStore, deps.upcasters, swUpdateStrategyStream(id), swUpdateStrategyDecider);
  const decideStrategy = decideOn(deps.handle, swUpdateStrategyStream, swUpdateStrategyDecider);
  const stillHeld = async (holder: string) => (await load(Number(holder))).state.status === 'active';

  /** The live strategy, of `type` when one is given: a 404 `Strategy not found` / `Strategy of type '<t>' not found`. */
  async function current(type?: string): Promise<SwUpdateStrategyDoc> {
    const docs = await readStore.find<SwUpdateStrategyDoc>(COLLECTIONS.swUpdateStrategies, type ? { type } : {}, { sort: { id: -1 }, limit: 1 });
    if (!docs[0]) throw new NotFoundError(type ? strategyOfTypeNotFound(type) : STRATEGY_NOT_FOUND);
    return docs[0];
  }

  async function requestedGroup(input: StrategyInput | undefined): Promise<RequestedGroup | null | undefined> {
    const ref = groupRefOf(input);
    if (ref === undefined) return undefined;
    const g = await findByRef<SubcloudGroupDoc>(readStore, COLLECTIONS.subcloudGroups, ref, { name: ref });
    return g ? { id: g.id, updateApplyType: g.updateApplyType, maxParallelSubclouds: g.maxParallelSubclouds } : null;
  }

  /** The steps: one per managed, online subcloud that passes the initial prestage checks, by id. A single
   *  `cloud_name` that does not pass fails the creation instead. */
  async function stepsFor(cloudName: string | null, groupId: number | null): Promise<StrategyStepRef[]> {
    if (cloudName !== null) {
      const s = (await readStore.find<SubcloudDoc>(COLLECTIONS.subclouds, { name: cloudName }, { limit: 1 }))[0];
      if (!s) throw new StrategyRequestError(`Subcloud ${cloudName} does not exist`);
      const refusal = initialPrestageCheck(s);
      if (refusal) throw new StrategyRequestError(prestageFailureMessage(refusal));
      return [{ subcloudId: s.id, cloud: s.name }];
    }
    const candidates = await readStore.find<SubcloudDoc>(
      COLLECTIONS.subclouds,
      { managementState: 'managed', availabilityStatus: 'online', ...(groupId !== null ? { groupId } : {}) },
      { sort: { id: 1 } },
    );
    // Excluded quietly, as dcmanager does for a group or all subclouds ("Excluding subcloud from prestage strategy").
    return candidates.filter((s) => !initialPrestageCheck(s)).map((s) => ({ subcloudId: s.id, cloud: s.name }));
  }

  async function create(input: StrategyInput | undefined, ctx: CommandContext): Promise<WriteResult<SwUpdateStrategyState>> {
    const request = validateStrategyRequest(input, await requestedGroup(input));
    // Cheap early refusal; the reservation below is what holds under concurrency. A retried request (same
    // Idempotency-Key) goes on: its id, reservation and creation are found again and answered as the first time.
    const existing = ctx.idempotency ? [] : await readStore.find<SwUpdateStrategyDoc>(COLLECTIONS.swUpdateStrategies, {}, { limit: 1 });
    if (existing[0]) throw new StrategyRequestError(strategyExists(existing[0].type));
    const steps = await stepsFor(request.cloudName, request.groupId);
    // Refused before an id is spent.
    if (steps.length === 0) throw new StrategyRequestError(NO_STEPS);
    const id = await uniqueness.allocateId(STRATEGY_ID_SCOPE, 1, ctx);
    const reservation = await uniqueness.reserve({ scope: CURRENT_STRATEGY_SCOPE, value: CURRENT_STRATEGY, holder: String(id), context: ctx, stillHeld });
    if (!reservation.reserved) {
      const holder = await load(Number(reservation.holder));
      throw new StrategyRequestError(strategyExists(holder.state.status === 'active' ? holder.state.type : request.type));
    }
    const command: SwUpdateStrategyCommand = {
      type: 'CreateStrategy',
      id,
      steps,
      settings: {
        type: request.type,
        subcloudApplyType: request.subcloudApplyType,
        maxParallelSubclouds: request.maxParallelSubclouds,
        stopOnFailure: request.stopOnFailure,
        extraArgs: { force: request.force, 'prestage-software-version': deps.softwareVersion },
      },
      sysadminPassword: deps.secrets.seal(request.sysadminPassword),
      at: ctx.now.toISOString(),
    };
    const r = await decideStrategy(id, command, ctx);
    return { ...r, position: latestPosition(reservation.position, r.position) };
  }

  const act = (command: (at: string) => SwUpdateStrategyCommand) => async (type: string | undefined, ctx: CommandContext) => {
    const doc = await current(type);
    return decideStrategy(doc.id, command(ctx.now.toISOString()), ctx);
  };

  const apply = act((at) => ({ type: 'ApplyStrategy', at }));
  const abort = act((at) => ({ type: 'AbortStrategy', at }));

  async function remove(type: string | undefined, ctx: CommandContext): Promise<WriteResult<SwUpdateStrategyState>> {
    const doc = await current(type);
    const r = await decideStrategy(doc.id, { type: 'DeleteStrategy', at: ctx.now.toISOString() }, ctx);
    const released = await uniqueness.release(CURRENT_STRATEGY_SCOPE, CURRENT_STRATEGY, String(doc.id), ctx);
    return { ...r, position: latestPosition(r.position, released) };
  }

  /** Whether a prestage strategy is being applied (a single-subcloud prestage waits for it). */
  async function prestageInProgress(): Promise<boolean> {
    return (await readStore.count(COLLECTIONS.swUpdateStrategies, { type: 'prestage', state: { $in: [...ACTIVE_STRATEGY_STATES] } })) > 0;
  }

  /** The orchestrator's record on the strategy. */
  const record = (id: number, command: SwUpdateStrategyCommand, ctx: CommandContext) => decideStrategy(id, command, ctx);

  /** The orchestrator's record on one step. */
  const recordStep = (strategyId: number, subcloudId: number, command: StrategyStepCommand, ctx: CommandContext) =>
    deps.handle({ streamId: strategyStepStream(strategyId, subcloudId), decider: strategyStepDecider, command, context: ctx });

  const loadStep = (strategyId: number, subcloudId: number) =>
    aggregateStream(deps.eventStore, deps.upcasters, strategyStepStream(strategyId, subcloudId), strategyStepDecider);

  return { create, apply, abort, remove, current, prestageInProgress, record, recordStep, load, loadStep };
}

export type SwUpdateStrategyCommands = ReturnType<typeof swUpdateStrategyCommands>;
