// Prestage rules and messages (domain/distcloud/prestage.ts): the initial checks, the pre-check verdict, the
// exception's text, the request values (strategy and single-subcloud) and the strategy step's details.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../domain/core/errors.js';
import {
  failedStepDetails,
  initialPrestageCheck,
  MANAGEMENT_AFFECTING_ALARMS,
  needsPreparation,
  ONLY_SIMPLEX,
  precheckVerdict,
  prestageFailureMessage,
  singlePrestageForce,
  singlePrestagePassword,
  stepDetails,
  strategyBool,
  strategySysadminPassword,
  type PrestageCandidate,
} from '../../../domain/distcloud/prestage.js';
import { expectValidationError, thrownBy } from '../../support/deciderSpec.js';

const PW = Buffer.from('St8rlingX*').toString('base64');
const candidate = (over: Partial<PrestageCandidate> = {}): PrestageCandidate => ({
  name: 'sc1',
  availabilityStatus: 'online',
  managementState: 'managed',
  deployStatus: 'complete',
  prestageStatus: null,
  backupStatus: null,
  ...over,
});
const skip = (details: string) => ({ subcloud: 'sc1', details, skip: true });

describe('initialPrestageCheck', () => {
  it('lets an online, managed, deployed subcloud with no prestage yet through', () => {
    expect(initialPrestageCheck(candidate())).toBeUndefined();
  });

  it('skips an offline subcloud', () => {
    expect(initialPrestageCheck(candidate({ availabilityStatus: 'offline' }))).toEqual(skip('Subcloud is offline.'));
  });

  it('skips an unmanaged subcloud', () => {
    expect(initialPrestageCheck(candidate({ managementState: 'unmanaged' }))).toEqual(skip('Subcloud is not managed.'));
  });

  it('skips a subcloud while its backup is in progress', () => {
    for (const backupStatus of ['validating', 'pre-backup', 'backing-up']) {
      expect(initialPrestageCheck(candidate({ backupStatus }))).toEqual(skip('Prestage operation is not allowed while backup is in progress.'));
    }
    expect(initialPrestageCheck(candidate({ backupStatus: 'complete-central' }))).toBeUndefined();
    expect(initialPrestageCheck(candidate({ backupStatus: undefined }))).toBeUndefined();
  });

  it('skips a subcloud whose deploy is not complete', () => {
    expect(initialPrestageCheck(candidate({ deployStatus: 'bootstrapping' }))).toEqual(
      skip('Prestage operation is not allowed when subcloud deploy is not completed.'),
    );
  });

  it('skips a subcloud with an ongoing prestage, naming the allowed statuses and the current one', () => {
    for (const prestageStatus of ['prestage-prepare', 'prestaging-packages', 'prestaging-images']) {
      expect(initialPrestageCheck(candidate({ prestageStatus }))).toEqual(
        skip(
          `Prestage operation is only allowed while subcloud prestage status is one of: failed, complete. The current prestage status is ${prestageStatus}.`,
        ),
      );
    }
  });

  it('allows a subcloud whose last prestage failed or completed', () => {
    expect(initialPrestageCheck(candidate({ prestageStatus: 'failed' }))).toBeUndefined();
    expect(initialPrestageCheck(candidate({ prestageStatus: 'complete' }))).toBeUndefined();
  });

  it('checks in dcmanager\'s order: offline first, then management, backup, deploy, prestage status', () => {
    const everythingWrong = candidate({
      availabilityStatus: 'offline',
      managementState: 'unmanaged',
      backupStatus: 'backing-up',
      deployStatus: 'bootstrapping',
      prestageStatus: 'prestaging-images',
    });
    expect(initialPrestageCheck(everythingWrong)?.details).toBe('Subcloud is offline.');
    expect(initialPrestageCheck({ ...everythingWrong, availabilityStatus: 'online' })?.details).toBe('Subcloud is not managed.');
    expect(initialPrestageCheck({ ...everythingWrong, availabilityStatus: 'online', managementState: 'managed' })?.details).toBe(
      'Prestage operation is not allowed while backup is in progress.',
    );
    expect(
      initialPrestageCheck({ ...everythingWrong, availabilityStatus: 'online', managementState: 'managed', backupStatus: null })?.details,
    ).toBe('Prestage operation is not allowed when subcloud deploy is not completed.');
  });
});

describe('precheckVerdict', () => {
  it('passes a simplex subcloud without management affecting alarms', () => {
    expect(precheckVerdict('sc1', { systemMode: 'simplex', managementAffectingAlarms: 0 }, false)).toBeUndefined();
  });

  it('skips a subcloud that is not simplex, forced or not', () => {
    expect(ONLY_SIMPLEX).toBe('Prestage operation is only accepted for a simplex subcloud.');
    for (const force of [false, true]) {
      expect(precheckVerdict('sc1', { systemMode: 'duplex', managementAffectingAlarms: 0 }, force)).toEqual(skip(ONLY_SIMPLEX));
    }
  });

  it('fails (not skips) a subcloud with management affecting alarms unless forced', () => {
    expect(MANAGEMENT_AFFECTING_ALARMS).toBe(
      'Subcloud has management affecting alarm(s). Please resolve the alarm condition(s) or use --force option and try again.',
    );
    expect(precheckVerdict('sc1', { systemMode: 'simplex', managementAffectingAlarms: 2 }, false)).toEqual({
      subcloud: 'sc1',
      details: MANAGEMENT_AFFECTING_ALARMS,
      skip: false,
    });
    expect(precheckVerdict('sc1', { systemMode: 'simplex', managementAffectingAlarms: 2 }, true)).toBeUndefined();
  });
});

describe('prestageFailureMessage', () => {
  it('has three forms: no subcloud, a skip, a failure', () => {
    expect(prestageFailureMessage({ subcloud: null, details: 'why', skip: false })).toBe('Prestage failed: why');
    expect(prestageFailureMessage({ subcloud: 'sc1', details: 'why', skip: true })).toBe("Prestage skipped 'sc1': why");
    expect(prestageFailureMessage({ subcloud: 'sc1', details: 'why', skip: false })).toBe("Prestage failed 'sc1': why");
  });
});

describe('needsPreparation', () => {
  it('only when the subcloud runs another release than the one prestaged', () => {
    expect(needsPreparation('22.12', '24.03')).toBe(true);
    expect(needsPreparation('24.03', '24.03')).toBe(false);
  });
});

describe('strategySysadminPassword', () => {
  it('returns a base64 password as given', () => {
    expect(strategySysadminPassword(PW)).toBe(PW);
  });

  it('is required: missing, null or empty', () => {
    for (const value of [undefined, null, '']) {
      expectValidationError(() => strategySysadminPassword(value), "Prestage failed: Missing required parameter 'sysadmin_password'", 'sysadmin_password');
    }
  });

  it('must be base64', () => {
    const prefix = 'Prestage failed: Failed to decode subcloud sysadmin_password, verify the password is base64 encoded. Details:';
    for (const value of ['not base64!', 12345]) {
      const thrown = thrownBy(() => strategySysadminPassword(value));
      expect(thrown).toBeInstanceOf(ValidationError);
      expect((thrown as ValidationError).message.startsWith(prefix)).toBe(true);
      expect((thrown as ValidationError).field).toBe('sysadmin_password');
    }
  });
});

describe('strategyBool', () => {
  it('takes JSON booleans and "true"/"false" in any case; absent is undefined', () => {
    expect(strategyBool('force', true)).toBe(true);
    expect(strategyBool('force', false)).toBe(false);
    expect(strategyBool('force', 'TRUE')).toBe(true);
    expect(strategyBool('force', 'false')).toBe(false);
    expect(strategyBool('force', undefined)).toBeUndefined();
    expect(strategyBool('force', null)).toBeUndefined();
  });

  it('refuses anything else, naming the value and the option', () => {
    expectValidationError(() => strategyBool('force', 'yes'), "Invalid value 'yes' for force - must be True/False or 'true'/'false'", 'force');
    expectValidationError(() => strategyBool('force', 1), "Invalid value '1' for force - must be True/False or 'true'/'false'", 'force');
    expectValidationError(
      () => strategyBool('stop-on-failure', 't'),
      "Invalid value 't' for stop-on-failure - must be True/False or 'true'/'false'",
      'stop-on-failure',
    );
  });
});

describe('singlePrestageForce', () => {
  it('takes true/false/t/f in any case and JSON booleans; absent is false', () => {
    for (const value of ['true', 'TRUE', 't', 'T', true]) expect(singlePrestageForce(value)).toBe(true);
    for (const value of ['false', 'False', 'f', 'F', false]) expect(singlePrestageForce(value)).toBe(false);
    expect(singlePrestageForce(undefined)).toBe(false);
    expect(singlePrestageForce(null)).toBe(false);
  });

  it('refuses anything else', () => {
    expectValidationError(() => singlePrestageForce('maybe'), 'Invalid value for force option: maybe', 'force');
    expectValidationError(() => singlePrestageForce(1), 'Invalid value for force option: 1', 'force');
  });
});

describe('singlePrestagePassword', () => {
  it('returns a base64 password as given', () => {
    expect(singlePrestagePassword(PW)).toBe(PW);
  });

  it('is required', () => {
    for (const value of [undefined, null, '']) {
      expectValidationError(() => singlePrestagePassword(value), 'sysadmin_password is required.', 'sysadmin_password');
    }
  });

  it('must be base64', () => {
    for (const value of ['not base64!', 12345]) {
      expectValidationError(
        () => singlePrestagePassword(value),
        'Failed to decode subcloud sysadmin_password, verify the password is base64 encoded',
        'sysadmin_password',
      );
    }
  });
});

describe('stepDetails', () => {
  it('keeps up to 255 characters', () => {
    expect(stepDetails('')).toBe('');
    const exact = 'x'.repeat(255);
    expect(stepDetails(exact)).toBe(exact);
  });

  it('cuts longer text to 253 characters and ".."', () => {
    const cut = stepDetails('x'.repeat(253) + 'yyy');
    expect(cut).toBe('x'.repeat(253) + '..');
    expect(cut).toHaveLength(255);
  });

  it('a failed step\'s details are "<state>: <error>", cut the same way', () => {
    expect(failedStepDetails('prestaging-packages', 'boom')).toBe('prestaging-packages: boom');
    const long = failedStepDetails('prestaging-images', 'e'.repeat(300));
    expect(long).toHaveLength(255);
    expect(long).toBe(`prestaging-images: ${'e'.repeat(253 - 'prestaging-images: '.length)}..`);
  });
});

describe('stepDetails counts characters', () => {
  it('keeps 200 emoji whole and cuts 300 at 253 characters plus ..', () => {
    expect(stepDetails('😀'.repeat(200))).toBe('😀'.repeat(200));
    expect(stepDetails('😀'.repeat(300))).toBe(`${'😀'.repeat(253)}..`);
  });
});
