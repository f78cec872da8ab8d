"""Signals the quiz room sends; other rooms (progress) subscribe, so quizzes never import them."""

from blinker import Namespace

_signals = Namespace()

# Sent inside the submit transaction, after the attempt's score and passed are set:
# attempt_graded.send(attempt, user=user, module=module). A receiver that writes rows
# (a completion) adds them to the same session; the view commits everything once.
attempt_graded = _signals.signal("attempt-graded")
