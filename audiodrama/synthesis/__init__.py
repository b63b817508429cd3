"""Stage 4, synthesis: one cached WAV clip per line, made by a speech engine in worker processes; the
engines' voices."""
