"""The server schema's steps, oldest first; each is frozen once released."""
