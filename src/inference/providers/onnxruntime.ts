/**
 * @module inference/providers/onnxruntime
 * The one way SegEarth's modules load `onnxruntime-node`: after `noTelemetry`, so that the library's
 * telemetry client never starts (see there). Import `ort` from here, never from the package itself (types
 * alone may come from the package: `import type`).
 */
import './noTelemetry.js';
import * as ort from 'onnxruntime-node';

export { ort };
