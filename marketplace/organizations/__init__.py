"""Organizations: units, vendors, parks, the center; each user belongs to one."""
