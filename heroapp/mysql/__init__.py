"""Django's MySQL backend with credentials that can change while the process runs (base.py)."""
