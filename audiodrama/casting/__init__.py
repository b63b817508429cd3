"""Stage 3, casting: the cast file, a voice for every speaker (auto-casting), `cast init`, `cast check`
and auditions."""
