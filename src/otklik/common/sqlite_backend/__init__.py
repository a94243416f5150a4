"""Django's SQLite backend with a writer lock that wakes the next writer at once."""
