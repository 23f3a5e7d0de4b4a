"""Excel in: the center collects submissions on sheets, previews them, then imports
every row or none."""
