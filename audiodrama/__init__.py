"""audiodrama: turn prose chapters into produced, multi-voice audio drama episodes."""

__version__ = "0.1.0"
