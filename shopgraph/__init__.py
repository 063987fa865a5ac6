"""The shopgraph command line and the wiring that starts the whole system."""
