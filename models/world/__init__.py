"""References and worlds: entities, view preparation, cached encoding, the library and contact sheets."""
