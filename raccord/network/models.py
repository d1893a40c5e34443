"""Network accounting: NAS clients, sessions (N1), daily usage, incidents and outages (N3)."""
