"""The discussion thread under each lesson: posts, replies and trainers' moderation."""
