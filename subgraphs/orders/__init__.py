"""Orders: what was bought, at what price, and where it goes. Owns ``Order``; adds ``User.orders``."""
