"""The database's lifecycle and shape: engine and transactions, the self-managed cluster, the
tables, the migrations, the layers read for maps.
"""
