"""What every engine family uses: Wan's shape rules, limits and atomic file writes."""
