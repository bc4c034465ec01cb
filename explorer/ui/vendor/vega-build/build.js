// Bundles entry.js (vega-embed with vega and vega-lite), minified, into ../vega-explorer-<vega-lite version>.min.js:
// a new version gets a new name (explorer/ui/assets.py, VEGA, must follow). `npm ci && npm run build`.
const path = require('path');
const esbuild = require('esbuild');
const version = JSON.parse(require('fs').readFileSync(path.join(__dirname, 'node_modules', 'vega-lite', 'package.json'))).version;

esbuild
  .build({
    entryPoints: ['./entry.js'],
    outfile: path.join(__dirname, '..', `vega-explorer-${version}.min.js`),
    format: 'iife',
    globalName: 'vegaEmbed',
    footer: { js: 'vegaEmbed = vegaEmbed.default;' },
    bundle: true,
    minify: true,
    legalComments: 'eof', // keeps the bundled packages' own license notices
    target: 'es2020',
    logLevel: 'info',
  })
  .catch(() => process.exit(1));
