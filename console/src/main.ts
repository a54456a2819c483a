/**
 * The console's shell: the header with the navigation (every registered view with a `nav`),
 * the tabs of a delivery's page (every view with a `deliveryTab`), and the current view,
 * chosen by the location hash. Switching views stops the old view's pollers.
 */
import { html, nothing, render } from 'lit-html';
import './styles.css';
import { deliveryTabs, hrefOf, navViews, resolve } from './view';
import type { MountedView, ViewDef } from './view';

const root = document.getElementById('app') as HTMLElement;
let current: { view: ViewDef; params: Record<string, string>; mounted: MountedView } | undefined;

const hashPath = (): string => location.hash.replace(/^#\/?/, '');

function update(): void {
  const c = current;
  const updatedAt = c?.mounted.updatedAt?.();
  const tabs = c?.params.deliveryId !== undefined ? deliveryTabs() : [];
  render(
    html`<header class="top">
        <a class="brand" href="#/fleet">Fabrikam <span>operations</span></a>
        <nav>
          ${navViews().map(
            (v) =>
              html`<a
                href=${hrefOf(v, {})}
                class=${c?.view.id === v.id || (v.id === 'deliveries' && tabs.length > 0) ? 'active' : ''}
                data-testid=${`nav-${v.id}`}
                >${v.nav?.label}</a
              >`,
          )}
        </nav>
        <span class="live" title="Live: polled with ETags, at most once a second"
          >${updatedAt ? html`● live · ${updatedAt.toISOString().slice(11, 19)}` : '○ connecting'}</span
        >
      </header>
      ${
        tabs.length > 0 && c
          ? html`<nav class="tabs">
              <a href="#/deliveries">← Deliveries</a>
              <strong>${c.params.deliveryId}</strong>
              ${tabs.map((t) => html`<a href=${hrefOf(t, c.params)} class=${t.id === c.view.id ? 'active' : ''}>${t.deliveryTab?.label}</a>`)}
            </nav>`
          : nothing
      }
      <main data-view=${c?.view.id ?? 'none'}>
        ${c ? c.mounted.render() : html`<p class="muted">No view at #/${hashPath()}. <a href="#/fleet">Fleet</a></p>`}
      </main>`,
    root,
  );
}

function route(): void {
  const path = hashPath();
  if (path === '') {
    location.replace('#/fleet');
    return;
  }
  const found = resolve(path);
  current?.mounted.dispose();
  current = undefined;
  if (found) {
    document.title = `${found.view.title} · Fabrikam operations`;
    const mounted = found.view.mount({ params: found.params, update, navigate: (hash) => (location.hash = hash) });
    current = { ...found, mounted };
  }
  update();
}

window.addEventListener('hashchange', route);
route();
