"""Test helpers: real appliance processes, an HTTP API client and local network peers."""
