"""Users, passwords, tokens and sign-ins; which cases a user may read. Framework-free."""
