"""Stage 7, series: a manifest of many episodes built incrementally and in parallel, with a report and a
podcast feed."""
