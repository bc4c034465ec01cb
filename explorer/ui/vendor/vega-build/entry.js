// vega-embed with vega and vega-lite: the explorer's Vega-Lite charts of live panels (explorer/ui/plotly_chart.js).
import embed from 'vega-embed';
export default embed;
