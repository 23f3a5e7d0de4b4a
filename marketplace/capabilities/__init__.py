"""Capabilities (场景能力): offered by vendors, reviewed by the center, published."""
