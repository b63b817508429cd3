"""Speech engines, one module each, behind `audiodrama.synthesis.engine.Engine`."""
