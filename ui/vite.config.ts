import { defineConfig } from 'vite'

// Resolved from this file, not the working directory, so `vite build --config ui/vite.config.ts`
// works from anywhere. Kept to what the browser tsconfig can check without Node types.
const root = decodeURIComponent(new URL('.', import.meta.url).pathname)

export default defineConfig({
  root,
  base: './',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022'
  }
})
