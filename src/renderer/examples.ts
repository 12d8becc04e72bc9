/**
 * @module renderer/examples
 * Questions to start from, per model variant: EarthReason answers implicit questions (what the analyst
 * wants to know), the referring-segmentation variants (RRSIS-D, RefSegRS) expect a description of the
 * object. The model bundle may bring its own; those come first.
 */
const BY_VARIANT: Record<string, string[]> = {
  earthreason: [
    'Where could flood water spread if the river overflows?',
    'Which roofs could hold solar panels?',
    'Where could a helicopter land safely?',
    'Which areas would be suitable for a new sports field?',
  ],
  'rrsis-d': ['the large white building next to the parking lot', 'the bridge over the river', 'the airplane closest to the terminal'],
  refsegrs: ['the road that crosses the image from left to right', 'the vehicles parked along the road', 'the building at the bottom left'],
  'tiny-test': ['where are the bright areas?', 'test question for the tiny random model'],
};

export function exampleQuestions(variant: string | null, fromModel: readonly string[]): string[] {
  const builtIn = variant ? (BY_VARIANT[variant] ?? []) : [];
  return [...new Set([...fromModel, ...builtIn])].slice(0, 6);
}
