// Bundles entry.js as plotly.js's own build does (esbuild-config.js of plotly.js 4.1.1), minified, into
// ../plotly-explorer-<version>.min.js: a new version gets a new name (explorer/ui/assets.py, PLOTLY, must follow).
const path = require('path');
const esbuild = require('esbuild');
const version = require('plotly.js/package.json').version;

esbuild
  .build({
    entryPoints: ['./entry.js'],
    outfile: path.join(__dirname, '..', `plotly-explorer-${version}.min.js`),
    format: 'iife',
    globalName: 'Plotly',
    bundle: true,
    minify: true,
    legalComments: 'eof', // keeps the bundled packages' own license notices
    banner: {
      js: `/**\n* plotly.js (explorer: scatter, bar, heatmap - minified) v${version}\n* Copyright 2012-2026, Plotly, Inc.\n* All rights reserved.\n* Licensed under the MIT license (plotly.js-LICENSE)\n*/`,
    },
    define: { global: 'window', 'define.amd': 'false', 'process.env.NODE_DEBUG': 'false' },
    loader: { '.css': 'empty' }, // maplibre's stylesheet, for map traces only
    target: 'es2016',
    logLevel: 'info',
  })
  .catch(() => process.exit(1));
