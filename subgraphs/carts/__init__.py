"""Carts: one open cart per user and tenant. Adds ``User.cart``; lines reference ``Product``."""
