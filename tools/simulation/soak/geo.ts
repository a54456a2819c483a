/**
 * The soak simulator's map: positions around Seattle, the drones' cruise speed, and the
 * distance between two positions.
 */

export interface Position {
  lat: number;
  lon: number;
}

export const SEATTLE: Position = { lat: 47.6, lon: -122.3 };
export const CRUISE_MPS = 15;

export function metres(a: Position, b: Position): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.sqrt(h));
}

export const round = (x: number): number => Math.round(x * 1e6) / 1e6;
