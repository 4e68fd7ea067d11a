"""The TUI's widgets, one job each."""
