/**
 * @module main/resources
 * Serves the map's binary resources (raster tiles, probability heatmaps) for any transport: parses the
 * shared resource path and answers PNG bytes or a typed error. Used by server mode (`/api/res/...`) and by
 * the desktop app's `segearth-tile://` protocol.
 */
import { parseResourcePath } from '../shared/api/resources.js';
import { SegEarthError } from '../shared/errors.js';
import type { InferenceService } from './services/inferenceService.js';
import type { WorkspaceService } from './services/workspaceService.js';

export async function loadResource(path: string, deps: { workspace: WorkspaceService; inference: InferenceService }): Promise<Uint8Array> {
  const ref = parseResourcePath(path);
  if (!ref) throw new SegEarthError('NOT_FOUND', `No map resource at ${path}.`);
  if (ref.kind === 'tile') return deps.workspace.renderTile(ref.layerId, ref.z, ref.x, ref.y);
  return deps.inference.probabilityPng(ref.resultId);
}

/** HTTP status for an error code, shared by the HTTP transport and the tile protocol. */
export function httpStatusFor(code: string): number {
  switch (code) {
    case 'BAD_ARGUMENT':
      return 400;
    case 'UNAUTHORIZED':
      return 401;
    case 'FORBIDDEN_PATH':
      return 403;
    case 'NOT_FOUND':
      return 404;
    case 'OUTPUT_EXISTS':
    case 'BATCH_EXISTS':
      return 409;
    case 'DISK_FULL':
      return 507;
    case 'INTERNAL':
      return 500;
    default:
      return 422;
  }
}
