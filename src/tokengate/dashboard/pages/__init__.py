"""One module per dashboard page: HTTP in, HTML out; the data comes from services and reads."""
