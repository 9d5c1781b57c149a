"""Market tables (filled in by the market flow)."""
