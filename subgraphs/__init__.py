"""The five domains, one package each; they share ``resolvers`` and ``events`` but never import
one another (another domain's entities are Federation stubs)."""
