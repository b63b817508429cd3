"""Stage 7, series: a manifest of many episodes built incrementally and in parallel, with a report and a
podcast feed.

`manifest` reads `series.yaml`; `state` keeps what was built from what (and the voices recorded for the
series) and the output folder's lock; `plan` decides what each episode is made from and whether it is
up to date (and gives the dry run); `workers` produce episodes in processes of their own; `report` and
`feed` write what a batch did and the podcast feed; `build` runs a batch from end to end.
"""
