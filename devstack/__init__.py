"""Local stand-ins for the outside world so one machine runs everything. Production code
never imports this package."""
