"""Speech engines, one module each, behind `audiodrama.synthesis.clips.Engine`."""
