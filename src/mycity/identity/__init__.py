"""Who is calling: keys, tokens, credentials, roles and the authorisation policy."""
