"""Public-service advertising (公益广告): the sites and the points they cover."""
