"""Each learner's progress: lessons done, in-lesson answers, completions and certificates."""
