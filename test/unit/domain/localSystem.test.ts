import { describe, expect, it } from 'vitest';
import {
  decide,
  evolve,
  initialState,
  LOCAL_SYSTEM_STREAM,
  localSystemDecider,
  type LocalSystemEvent,
} from '../../../domain/distcloud/localSystem.js';
import { deciderSpec } from '../../support/deciderSpec.js';

const at = '2026-03-01T10:00:00.000Z';
const later = '2026-03-01T11:00:00.000Z';
const latest = '2026-03-01T12:00:00.000Z';
const UUID = '11111111-2222-4333-8444-555555555555';
const OTHER_UUID = '66666666-7777-4888-9999-aaaaaaaaaaaa';
const identified: LocalSystemEvent = { type: 'SystemIdentified', data: { uuid: UUID, name: 'site-a', at } };
const renamed: LocalSystemEvent = { type: 'SystemRenamed', data: { name: 'site-a2', previousName: 'site-a', at: later } };
const spec = deciderSpec(localSystemDecider);

describe('local system decider', () => {
  it('has one stream', () => {
    expect(LOCAL_SYSTEM_STREAM).toBe('system-local');
  });

  it('given a site never started, when identified, then SystemIdentified records the candidate uuid and the name', () => {
    spec([]).when({ type: 'IdentifySystem', uuid: UUID, name: 'site-a', at }).then([identified]);
  });

  it('given an identified site, when started again with the same name, then nothing happens (a new candidate uuid is ignored)', () => {
    spec([identified]).when({ type: 'IdentifySystem', uuid: OTHER_UUID, name: 'site-a', at: later }).thenNothingHappens();
  });

  it('given an identified site, when started with another SYSTEM_NAME, then SystemRenamed carries the previous name', () => {
    spec([identified]).when({ type: 'IdentifySystem', uuid: OTHER_UUID, name: 'site-a2', at: later }).then([renamed]);
  });

  it('given a renamed site, when started with its new name, then nothing happens', () => {
    spec([identified, renamed]).when({ type: 'IdentifySystem', uuid: OTHER_UUID, name: 'site-a2', at: latest }).thenNothingHappens();
  });

  it('given a renamed site, when the old name comes back, then it is renamed back, previous the new name', () => {
    spec([identified, renamed])
      .when({ type: 'IdentifySystem', uuid: OTHER_UUID, name: 'site-a', at: latest })
      .then([{ type: 'SystemRenamed', data: { name: 'site-a', previousName: 'site-a2', at: latest } }]);
  });

  describe('evolve', () => {
    it('starts absent', () => {
      expect(initialState()).toEqual({ status: 'absent' });
    });

    it('identified: active with its uuid, name and the time it was identified', () => {
      expect(evolve(initialState(), identified)).toEqual({ status: 'active', uuid: UUID, name: 'site-a', identifiedAt: at });
    });

    it('renamed: only the name changes; the uuid and identifiedAt stay', () => {
      expect([identified, renamed].reduce(evolve, initialState())).toEqual({ status: 'active', uuid: UUID, name: 'site-a2', identifiedAt: at });
    });

    it('a rename before any identification leaves the site absent', () => {
      expect(evolve(initialState(), renamed)).toEqual({ status: 'absent' });
    });

    it('the folded state is what decide reads', () => {
      const s = [identified, renamed].reduce(evolve, initialState());
      expect(decide({ type: 'IdentifySystem', uuid: OTHER_UUID, name: 'site-a2', at: latest }, s)).toEqual([]);
    });
  });
});
