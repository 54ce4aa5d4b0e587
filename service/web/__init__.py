"""Everything that speaks HTTP: blueprints, sign-in, headers, idempotency, message catalogues,
templates and static files.
"""
