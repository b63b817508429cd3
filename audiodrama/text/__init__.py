"""Stage 1, text: a chapter file read into normalised text, paragraphs, scenes and headings."""
