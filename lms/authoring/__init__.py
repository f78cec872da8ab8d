"""Authoring: courses/ on disk to the catalog (loader, importer), and back; the trainers' editor."""
