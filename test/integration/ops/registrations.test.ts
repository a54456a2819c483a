import { describe, expect, it } from 'vitest';
import { loadFunctionApp } from '../../support/app';
import { FUNCTIONS } from '../../../functions/names';

describe('the app loaded through the @azure/functions-core seam', () => {
  it('captures every app.* registration with its binding metadata', async () => {
    const registry = await loadFunctionApp();
    const health = registry.get(FUNCTIONS.health);
    expect(health.trigger.type).toBe('httpTrigger');
    expect(health.trigger.route).toBe('health');
    expect(health.trigger.methods).toEqual(['GET']);
    expect(health.trigger.authLevel).toBe('anonymous');
  });
});
