"""Stage 5, mixing: clips placed on the episode's timeline with pauses, ambient beds and music, then
mastered to the loudness target."""
