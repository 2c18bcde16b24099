"""Getting accounts in: the CSV columns, row validation and the bulk upsert."""
