"""Stage 6, export: the MP3 with its tags and chapters, and the transcripts."""
