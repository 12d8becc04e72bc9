/**
 * The API surface (Insomnia style): every method and event of the contract, with its one-line summary.
 * Any change to the contract shows up as a diff of this snapshot in review. That every method is implemented
 * and answers over both transports is test/main/transports.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { api, getMethodSpec, listApiSurface } from '../../src/shared/api/contract.js';
import { parseResourcePath, resourcePath } from '../../src/shared/api/resources.js';

describe('API contract', () => {
  it('has this surface', () => {
    const surface = listApiSurface();
    const lines = surface.methods.map((m) => {
      const [service, method] = m.split('.') as [string, string];
      return `${m} — ${getMethodSpec(service, method)!.summary}`;
    });
    expect({ methods: lines, events: surface.events }).toMatchSnapshot();
  });

  it('rejects a question that is empty or a threshold outside (0, 1)', () => {
    const ask = api.inference.ask.input;
    expect(ask.safeParse({ layerId: 'a1', question: '   ', aoi: { kind: 'scene' } }).success).toBe(false);
    expect(ask.safeParse({ layerId: 'a1', question: 'roads', aoi: { kind: 'scene' }, threshold: 1 }).success).toBe(false);
    const ok = ask.parse({ layerId: 'a1', question: 'roads', aoi: { kind: 'scene' } });
    expect(ok.threshold).toBe(0.5);
    expect(ok.minAreaM2).toBe(0);
  });

  it('round-trips resource paths and refuses anything else', () => {
    const tile = { kind: 'tile' as const, layerId: 'abc_1', z: 3, x: 5, y: 7 };
    expect(resourcePath(tile)).toBe('tiles/abc_1/3/5/7.png');
    expect(parseResourcePath('tiles/abc_1/3/5/7.png')).toEqual(tile);
    expect(parseResourcePath('results/r1/probability.png')).toEqual({ kind: 'probability', resultId: 'r1' });
    expect(parseResourcePath('tiles/../../etc/passwd')).toBeNull();
    expect(parseResourcePath('tiles/a/1/2/3.png/../x')).toBeNull();
  });
});
