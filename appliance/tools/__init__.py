"""Network tools shared by the checkers and the API's tool endpoints (WHOIS, MTR)."""
