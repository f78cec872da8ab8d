"""The front door: each role's home page, health check, help and privacy pages."""
