"""The studio: a local web page to review who speaks each line, fix it, recast and listen, then render.

`session.Studio` holds the episodes, their scripts (with the user's edits) and the cast; every action
the page offers is one of its methods. `server` is the thin web layer over it, `static/` the page.
"""
