"""Periodic publication of the lists (2025-07-tech-transfer-measures.txt art. 9:
定期向社会发布): numbered, immutable editions with a digest chain and downloads."""
