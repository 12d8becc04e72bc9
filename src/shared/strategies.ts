/**
 * @module shared/strategies
 * How a scene is run, one vocabulary end to end (runtime, CLI `--strategy`, API, question and batch panels):
 * `view` one resampled pass over the area, `tiled` full-resolution tiles, `coarse-to-fine` a view pass refined
 * where something was found, `auto` = `view` for areas up to twice the model's input, else coarse to fine.
 */
import { z } from 'zod';

export const STRATEGIES = ['auto', 'view', 'tiled', 'coarse-to-fine'] as const;
export const StrategySchema = z.enum(STRATEGIES);
export type Strategy = z.infer<typeof StrategySchema>;

/** What a batch can run per scene (no `auto`: a batch says what it does). */
export const BATCH_STRATEGIES = ['tiled', 'coarse-to-fine', 'view'] as const;
export const BatchStrategySchema = z.enum(BATCH_STRATEGIES);
export type BatchStrategy = z.infer<typeof BatchStrategySchema>;
