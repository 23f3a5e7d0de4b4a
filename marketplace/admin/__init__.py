"""Administration pages: taxonomies, organizations and users."""
