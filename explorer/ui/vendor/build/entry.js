'use strict';
// The explorer's plotly.js: the core (the scatter trace and every layout component) with the bar and heatmap
// traces, the only ones the app draws (explorer/ui/assets.py, TRACE_TYPES; the page tests check every figure).
var Plotly = require('plotly.js/lib/core');

Plotly.register([require('plotly.js/lib/bar'), require('plotly.js/lib/heatmap')]);

module.exports = Plotly;
