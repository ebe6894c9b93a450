"""The Textual admin console (talks to the API only)."""
