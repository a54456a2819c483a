// Builds the operations console into console/dist (git-ignored), apart from the function app's
// dist/: `npm run build:console` runs `vite build --config console/vite.config.ts`. Relative
// asset URLs (base './') let the same build be served under /console locally and at the root
// of the Azure static site.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  // console/public holds staticwebapp.config.json, the Azure static site's routes and sign-in.
  publicDir: 'public',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The console is one small page: one script and one stylesheet, no source maps shipped.
    sourcemap: false,
    reportCompressedSize: true,
  },
  server: {
    // `npx vite --config console/vite.config.ts` for live editing against a running `npm start`.
    proxy: { '/api': 'http://127.0.0.1:7071' },
  },
});
