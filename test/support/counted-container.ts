/**
 * A Cosmos DB container that records the item requests made through it (read, create, replace,
 * patch, delete, upsert), in order: how a test says how many requests an operation costs.
 */
import type { Container } from '@azure/cosmos';

const REQUESTS = new Set(['read', 'create', 'replace', 'patch', 'delete', 'upsert']);

export function counted(c: Container): { container: Container; requests: string[] } {
  const requests: string[] = [];
  const counting = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(t, key) {
        const value: unknown = Reflect.get(t, key);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (REQUESTS.has(String(key))) requests.push(String(key));
          return (value as (...a: unknown[]) => unknown).apply(t, args);
        };
      },
    });
  const container = new Proxy(c, {
    get(t, key) {
      if (key === 'item') return (id: string, pk: string) => counting(t.item(id, pk));
      if (key === 'items') return counting(t.items);
      return Reflect.get(t, key);
    },
  });
  return { container, requests };
}
