"""Coverage: how far each target stands for a scope and a day, who is behind, and the reports."""
