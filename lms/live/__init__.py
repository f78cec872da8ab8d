"""Live sessions: Jitsi rooms and tokens, pasted meeting links and calendar files."""
