/**
 * What a console view is, and the registry that finds them: every module in `views/` that
 * exports `view` is a view, picked up at build time (Vite's import.meta.glob), so a new view
 * is one new file. A view names its hash route and either a place in the top navigation or a
 * tab on a delivery's page (routes with `:deliveryId`), e.g. a trace waterfall or a report.
 */
import type { TemplateResult } from 'lit-html';

export interface ViewContext {
  readonly params: Readonly<Record<string, string>>;
  /** Re-render the page (after the view's state changed). */
  readonly update: () => void;
  readonly navigate: (hash: string) => void;
}

export interface MountedView {
  render(): TemplateResult;
  /** Stops the view's pollers. */
  dispose(): void;
  /** When its data last arrived, for the header's live indicator. */
  updatedAt?(): Date | undefined;
}

export interface ViewDef {
  readonly id: string;
  /** Hash route, segments separated by '/', `:name` binds a parameter: 'deliveries/:deliveryId'. */
  readonly route: string;
  readonly title: string;
  readonly nav?: { readonly label: string; readonly order: number };
  readonly deliveryTab?: { readonly label: string; readonly order: number };
  mount(ctx: ViewContext): MountedView;
}

const modules = import.meta.glob<{ view?: ViewDef }>('./views/*.ts', { eager: true });

export const VIEWS: readonly ViewDef[] = Object.values(modules)
  .map((m) => m.view)
  .filter((v): v is ViewDef => v !== undefined);

export function match(route: string, hash: string): Record<string, string> | undefined {
  const want = route.split('/').filter((s) => s !== '');
  const got = hash.split('/').filter((s) => s !== '');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as string;
    const g = decodeURIComponent(got[i] as string);
    if (w.startsWith(':')) params[w.slice(1)] = g;
    else if (w !== g) return undefined;
  }
  return params;
}

export function resolve(hash: string): { view: ViewDef; params: Record<string, string> } | undefined {
  for (const view of VIEWS) {
    const params = match(view.route, hash);
    if (params) return { view, params };
  }
  return undefined;
}

export const navViews = (): ViewDef[] =>
  VIEWS.filter((v) => v.nav).sort((a, b) => (a.nav?.order ?? 0) - (b.nav?.order ?? 0));

export const deliveryTabs = (): ViewDef[] =>
  VIEWS.filter((v) => v.deliveryTab).sort((a, b) => (a.deliveryTab?.order ?? 0) - (b.deliveryTab?.order ?? 0));

/** The hash of a view's route with its parameters filled in. */
export function hrefOf(view: ViewDef, params: Readonly<Record<string, string>>): string {
  return `#/${view.route
    .split('/')
    .map((s) => (s.startsWith(':') ? encodeURIComponent(params[s.slice(1)] ?? '') : s))
    .join('/')}`;
}
