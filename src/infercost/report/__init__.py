"""Reports: one self-contained HTML file per verb's result (Jinja2 templates, plotly charts
with plotly.js embedded), readable offline and when printed."""
