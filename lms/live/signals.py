"""Signals the live room sends; other rooms (progress) subscribe, so live never imports them."""

from blinker import Namespace

_signals = Namespace()

# Sent inside the confirming transaction, once per newly confirmed person:
# attendance_confirmed.send(session, user=user, module=module, covers_module=bool, when=datetime),
# `when` being the session's end (or the confirmation, if that came first): the completion's date.
# A receiver that writes rows (a completion) adds them to the same session; the caller commits.
attendance_confirmed = _signals.signal("attendance-confirmed")

# Sent when a trainer withdraws a confirmation made by mistake:
# attendance_withdrawn.send(session, user=user, module=module, covers_module=bool, actor=User).
attendance_withdrawn = _signals.signal("attendance-withdrawn")
