import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// Everything is bundled into dist/: no CDN, no web fonts, no request leaves the machine.
export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  // The catalogues live at the top of the repository, where the core reads them too.
  server: { fs: { allow: [".", "../i18n"] } },
  build: { target: "es2021", outDir: "dist", emptyOutDir: true, assetsInlineLimit: 0 },
});
