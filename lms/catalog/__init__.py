"""The published curriculum: courses, modules, lessons and the interactive blocks in them."""
