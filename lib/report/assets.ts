// The page's script and style. Bundled from page/ with esbuild on first use; a Lambda bundle has no
// esbuild binary, so CDK's afterBundling step builds the same files beside it (PAGE_BUILD) and
// they are read from there (lib/infra/caco-stack.ts).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PAGE_ENTRY = fileURLToPath(new URL('./page/main.ts', import.meta.url));
export const PAGE_STYLE = fileURLToPath(new URL('./page/style.css', import.meta.url));
/** Where a bundle looks for the prebuilt page (next to the bundled index.mjs). */
const PREBUILT = fileURLToPath(new URL('./report-page/', import.meta.url));

/** esbuild flags for the page: one IIFE for current browsers, minified. */
export const PAGE_BUILD = { bundle: true, minify: true, format: 'iife', target: 'es2020', legalComments: 'none' } as const;

/** The shell commands that build the page into a bundle's output folder (CDK afterBundling). */
export function pageBuildCommands(projectRoot: string, outputDir: string): string[] {
  const esbuild = `${projectRoot}/node_modules/esbuild/bin/esbuild`;
  const flags = `--bundle --minify --format=${PAGE_BUILD.format} --target=${PAGE_BUILD.target} --legal-comments=${PAGE_BUILD.legalComments}`;
  return [
    `mkdir -p "${outputDir}/report-page"`,
    `"${esbuild}" "${projectRoot}/lib/report/page/main.ts" ${flags} --log-level=warning --outfile="${outputDir}/report-page/page.js"`,
    `cp "${projectRoot}/lib/report/page/style.css" "${outputDir}/report-page/style.css"`,
  ];
}

let cached: Promise<{ js: string; css: string }> | undefined;

export function pageAssets(): Promise<{ js: string; css: string }> {
  cached ??= (async () => {
    if (existsSync(`${PREBUILT}page.js`)) {
      return { js: readFileSync(`${PREBUILT}page.js`, 'utf8'), css: readFileSync(`${PREBUILT}style.css`, 'utf8') };
    }
    const esbuild = await import('esbuild');
    const out = await esbuild.build({ ...PAGE_BUILD, entryPoints: [PAGE_ENTRY], write: false, logLevel: 'silent' });
    return { js: out.outputFiles[0]!.text, css: readFileSync(PAGE_STYLE, 'utf8') };
  })();
  cached.catch(() => (cached = undefined));
  return cached;
}
