import { describe, it } from 'vitest';
import { reservationDecider, ReservationHeldError, type ReservationEvent } from '../../../domain/core/reservation.js';
import { sequenceDecider } from '../../../domain/core/sequence.js';
import { deciderSpec } from '../../support/deciderSpec.js';

const at = '2026-03-01T10:00:00.000Z';
const reservedByA: ReservationEvent = { type: 'ValueReserved', data: { holder: 'a', at } };
const spec = deciderSpec(reservationDecider);

describe('reservation decider', () => {
  it('reserves a free value', () => {
    spec([]).when({ type: 'Reserve', holder: 'a', at }).then([reservedByA]);
  });
  it('is idempotent for the holder', () => {
    spec([reservedByA]).when({ type: 'Reserve', holder: 'a', at }).thenNothingHappens();
  });
  it('refuses another holder, naming the current one', () => {
    spec([reservedByA]).when({ type: 'Reserve', holder: 'b', at }).thenThrows(ReservationHeldError, 'reserved by a');
  });
  it('lets a caller take over a value its holder abandoned', () => {
    spec([reservedByA])
      .when({ type: 'Reserve', holder: 'b', at, takeOver: true })
      .then([{ type: 'ValueReserved', data: { holder: 'b', at } }]);
  });
  it('frees a released value; only the holder releases', () => {
    spec([reservedByA]).when({ type: 'Release', holder: 'b', at }).thenNothingHappens();
    spec([reservedByA, { type: 'ValueReleased', data: { holder: 'a', at } }])
      .when({ type: 'Reserve', holder: 'b', at })
      .then([{ type: 'ValueReserved', data: { holder: 'b', at } }]);
  });
});

describe('sequence decider', () => {
  const seq = deciderSpec(sequenceDecider);
  it('starts at the floor and counts up', () => {
    seq([]).when({ type: 'Allocate', atLeast: 2 }).then([{ type: 'IdAllocated', data: { value: 2 } }]);
    seq([{ type: 'IdAllocated', data: { value: 2 } }])
      .when({ type: 'Allocate', atLeast: 2 })
      .then([{ type: 'IdAllocated', data: { value: 3 } }]);
  });
});
