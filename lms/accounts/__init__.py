"""People's accounts: sign-in and sign-out, passwords, roles and language."""
