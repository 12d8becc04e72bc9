/**
 * @module main/services/deviceProbe
 * The execution providers of this machine for the Model & device dialog: which onnxruntime providers really
 * work here (a tiny probe session on each, see `inference/providers/executionProvider`), which one "Automatic" takes,
 * and, for every other one, the reason it cannot run (e.g. the CUDA libraries are not installed). The same
 * facts `segearth models devices` prints.
 */
import type { DeviceReport } from '../../shared/api/modelDto.js';
import type { EpChoice } from '../../inference/providers/executionProvider.js';
import { EP_LABEL as LABEL, EXECUTION_PROVIDERS as ORDER, type EpRequest } from '../../shared/executionProviders.js';

/** The selection function of `inference/providers/executionProvider` (injected in tests). */
export type SelectProvider = (request: EpRequest) => Promise<EpChoice>;


/** `BAD_ARGUMENT: "CUDA execution provider cannot run here: <reason>."` → `<reason>`. */
function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^.*? execution provider cannot run here: /, '').replace(/\.$/, '');
}

/**
 * Probes every provider. With `select` omitted, onnxruntime is loaded lazily (it is heavy, and server mode
 * may never need it).
 */
export async function probeDevices(select?: SelectProvider): Promise<DeviceReport> {
  const choose: SelectProvider =
    select ??
    (async (request) => {
      const ep = await import('../../inference/providers/executionProvider.js');
      return ep.selectExecutionProvider({ request });
    });
  let auto: EpChoice | null = null;
  let autoReason = '';
  try {
    auto = await choose('auto');
    autoReason = auto.reason;
  } catch (err) {
    autoReason = reasonOf(err);
  }
  const providers: DeviceReport['providers'] = [];
  for (const provider of ORDER) {
    if (auto && provider === auto.provider) {
      providers.push({ provider, label: LABEL[provider], works: true, reason: null });
      continue;
    }
    const skipped = auto?.skipped.find((s) => s.provider === provider);
    if (skipped) {
      providers.push({ provider, label: LABEL[provider], works: false, reason: skipped.reason });
      continue;
    }
    try {
      await choose(provider);
      providers.push({ provider, label: LABEL[provider], works: true, reason: null });
    } catch (err) {
      providers.push({ provider, label: LABEL[provider], works: false, reason: reasonOf(err) });
    }
  }
  return { auto: auto ? LABEL[auto.provider] : null, autoReason, providers };
}
