"""One driver per backend under the SQL layer: connections, transactions, migrations."""
