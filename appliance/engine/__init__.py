"""The check engine: scheduler (when), runner (what happens with a result), live state (now)."""
