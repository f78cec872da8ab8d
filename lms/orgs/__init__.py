"""The organisation tree of any depth, grassroots unions at its leaves, and officers' positions."""
