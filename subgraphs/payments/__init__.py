"""Payments: Stripe PaymentIntents and refunds. Owns ``Payment``; adds ``Order.payment``."""
