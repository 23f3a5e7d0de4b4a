"""Scene opportunities (场景机会): posted by units, reviewed, then published."""
