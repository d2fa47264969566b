"""Everything Cahier says in French and English: the message catalog and locale-aware amounts and dates."""
