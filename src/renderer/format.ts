/**
 * @module renderer/format
 * How numbers are shown to an analyst: areas in m² / ha / km², map coordinates with sensible decimals,
 * lon/lat in degrees with hemisphere, durations, file sizes.
 */
export function formatArea(m2: number): string {
  if (!Number.isFinite(m2)) return '–';
  if (m2 >= 1e6) return `${(m2 / 1e6).toLocaleString('en', { maximumFractionDigits: 2 })} km²`;
  if (m2 >= 1e4) return `${(m2 / 1e4).toLocaleString('en', { maximumFractionDigits: 2 })} ha`;
  return `${Math.round(m2).toLocaleString('en')} m²`;
}

export function formatMapCoordinate(value: number, units: string): string {
  if (units === 'degrees' || units === 'degree') return value.toFixed(6);
  if (units === 'pixels') return value.toFixed(1);
  return value.toLocaleString('en', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
}

export function formatLonLat(lon: number, lat: number): string {
  const ew = lon >= 0 ? 'E' : 'W';
  const ns = lat >= 0 ? 'N' : 'S';
  return `${Math.abs(lat).toFixed(5)}° ${ns}  ${Math.abs(lon).toFixed(5)}° ${ew}`;
}

export function formatDuration(seconds: number): string {
  if (seconds < 1) return 'under a second';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return `${m} min ${s.toString().padStart(2, '0')} s`;
}

export function formatBytes(n: number | null): string {
  if (n === null) return '';
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(0)} KB`;
  return `${n} B`;
}

export function formatPercent(p: number): string {
  return `${Math.round(p * 100)} %`;
}
