/**
 * @module inference/providers/noTelemetry
 * Imported for its effect, by `providers/onnxruntime` (before the library) and by the worker host: turns off
 * onnxruntime's telemetry. onnxruntime-node 1.30's Linux library carries Microsoft's 1DS telemetry client,
 * which starts with the first session, writes `.ses` and `mat-debug-<pid>.log` into the temporary folder and
 * can upload events to `mobile.events.data.microsoft.com`. An analyst's scenes and questions never go there,
 * but a desktop GIS tool does not contact anyone without being asked (air-gapped and classified work
 * included), so SegEarth sets onnxruntime's own switch, `ORT_DISABLE_TELEMETRY=1`, in the process environment
 * before the library starts (worker threads and child processes inherit it). Someone who wants onnxruntime's
 * telemetry sets `ORT_DISABLE_TELEMETRY=0` themselves.
 */
process.env.ORT_DISABLE_TELEMETRY ??= '1';
