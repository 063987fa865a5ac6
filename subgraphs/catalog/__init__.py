"""Catalog: products, categories and inventory. Owns ``Product`` and ``Category``."""
