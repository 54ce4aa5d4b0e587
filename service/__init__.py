"""The chuangwen web service: Flask app, database access, HTTP in and out."""
