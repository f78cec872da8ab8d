"""Module quizzes: GIFT questions, attempts saved as the learner answers, grading on the server."""
