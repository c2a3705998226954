import { defineConfig } from 'vite';

// The gateway serves dist/ at /admin/ (packages/gateway/src/http/dashboard.ts) under a strict
// Content-Security-Policy: script-src and style-src 'self', so nothing may be inlined.
export default defineConfig({
  base: '/admin/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No inline module-preload polyfill, no inlined assets: every byte comes from a file.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
});
