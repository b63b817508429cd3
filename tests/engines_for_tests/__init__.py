"""Real engines and probes for the synthesis tests: faults are real process faults, not mocks."""
