/**
 * @module main/services/newId
 * Ids of layers, results, jobs and batches: 16 hex characters of a random UUID (unique within a session,
 * short enough for URLs and file names).
 */
import { randomUUID } from 'node:crypto';

export const newId = (): string => randomUUID().replaceAll('-', '').slice(0, 16);
