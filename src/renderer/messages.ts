/**
 * @module renderer/messages
 * Sentences the workspace says to the analyst about results.
 */
import { formatPercent } from './format';

/** The plain "nothing found" sentence for a result without polygons. */
export function nothingFoundMessage(question: string, maxProbability: number, threshold: number): string {
  const base = `The model found nothing matching “${question}” in this area.`;
  if (maxProbability >= threshold * 0.5) {
    return `${base} The highest probability was ${formatPercent(maxProbability)} (threshold ${formatPercent(threshold)}): lowering the threshold may show weaker candidates.`;
  }
  return `${base} The highest probability anywhere was ${formatPercent(maxProbability)}, so this is a clear “not here”, not a near miss.`;
}
