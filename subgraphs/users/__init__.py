"""Users: profiles keyed by the token's subject, and their addresses. Owns ``User``."""
